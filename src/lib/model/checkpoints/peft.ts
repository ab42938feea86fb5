/**
 * LoRA adapters in PEFT's folder layout, so Python's `peft` loads what the playground trained
 * (`PeftModel.from_pretrained(base, folder)`) and the playground loads PEFT's adapters:
 * `adapter_config.json` and `adapter_model.safetensors` with tensors named
 * `base_model.model.<module path>.lora_A.weight` ([r, in]) and `.lora_B.weight` ([out, r]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../architecture/config.ts';
import { LoraAdapter, moduleShapes } from '../adapters/lora.ts';
import { checkFinite } from './checkpoint-check.ts';
import { loraModules, type LoraConfig, type LoraModule } from '../adapters/lora-config.ts';
import { targetModules } from '../adapters/lora-config.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors.ts';

const prefix = 'base_model.model.';

/** The safetensors metadata key by which this app's adapter checkpoints carry their
 * adapter_config.json (so one file is a whole adapter). */
export const peftConfigKey = 'peft_config';

export interface PeftFiles {
  'adapter_config.json': string;
  'adapter_model.safetensors': Uint8Array;
}

/** PEFT's adapter_config.json for adapters of these settings on the base `base`. */
export function peftConfigJson(s: LoraConfig, base: string): string {
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: base,
    r: s.rank,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    use_rslora: s.rsLora,
    target_modules: targetModules(s),
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_dora: false,
    revision: null,
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** An adapter's weights by PEFT's tensor names ("base_model.model.<path>.lora_A.weight"). */
export async function peftTensors(adapter: LoraAdapter): Promise<Map<string, NamedArray>> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, v] of adapter.named())
    tensors.set(prefix + name, { shape: v.shape, data: (await v.data()) as Float32Array });
  return tensors;
}

/** The adapter as PEFT's two files; `base` names the base model (its folder or Hub id). */
export async function toPeft(adapter: LoraAdapter, base: string): Promise<PeftFiles> {
  return {
    'adapter_config.json': peftConfigJson(adapter.settings, base),
    'adapter_model.safetensors': writeSafetensors(await peftTensors(adapter), { format: 'pt' }),
  };
}

/** What PEFT's adapter_config.json may say, and the value this app needs where it matters. */
const acceptedConfig: Record<string, (v: unknown) => boolean> = {
  peft_type: (v) => v === 'LORA',
  task_type: (v) => v === 'CAUSAL_LM' || v == null,
  bias: (v) => v === 'none' || v == null,
  fan_in_fan_out: (v) => v === false || v == null,
  use_dora: (v) => v === false || v == null,
  modules_to_save: (v) => v == null || (Array.isArray(v) && v.length === 0),
  layers_to_transform: (v) => v == null,
  layers_pattern: (v) => v == null,
  rank_pattern: (v) => v == null || (typeof v === 'object' && Object.keys(v).length === 0),
  alpha_pattern: (v) => v == null || (typeof v === 'object' && Object.keys(v).length === 0),
  megatron_config: (v) => v == null,
  loftq_config: (v) => v == null || (typeof v === 'object' && Object.keys(v).length === 0),
};
/** Keys that do not change what the adapter computes. */
const inertConfig = new Set([
  'base_model_name_or_path',
  'revision',
  'inference_mode',
  'init_lora_weights',
  'auto_mapping',
  'megatron_core',
  'layer_replication',
  'runtime_config',
  'eva_config',
  'corda_config',
  'exclude_modules',
  'lora_bias',
  'trainable_token_indices',
  'qalora_group_size',
  'use_qalora',
]);
const usedConfig = new Set(['r', 'lora_alpha', 'lora_dropout', 'use_rslora', 'target_modules']);

/** The settings an adapter_config.json describes; anything this app cannot apply throws. */
export function loraConfigOfPeft(json: Record<string, unknown>): LoraConfig {
  const fail = (what: string) => new Error(`adapter_config.json: ${what}.`);
  for (const [key, value] of Object.entries(json)) {
    if (usedConfig.has(key) || inertConfig.has(key)) continue;
    const ok = Object.hasOwn(acceptedConfig, key) ? acceptedConfig[key] : undefined;
    if (!ok) throw fail(`the key "${key}" is not understood, so the adapter is not loaded`);
    if (!ok(value)) throw fail(`"${key}": ${JSON.stringify(value)} is not supported`);
  }
  if (json.lora_bias === true) throw fail('"lora_bias": true is not supported');
  const targets = json.target_modules;
  if (!Array.isArray(targets) || targets.length === 0)
    throw fail('"target_modules" must be a list of module names');
  for (const t of targets)
    if (!loraModules.includes(t as LoraModule))
      throw fail(`target module "${String(t)}" is not one of ${loraModules.join(', ')}`);
  const num = (key: string, fallback: number) => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`"${key}" must be a number`);
    return v;
  };
  const rank = num('r', 8);
  if (!Number.isInteger(rank) || rank < 1 || rank > 1024)
    throw fail(`"r" is ${rank}: an adapter's rank must be a whole number from 1 to 1024`);
  const dropout = num('lora_dropout', 0);
  if (dropout < 0 || dropout >= 1)
    throw fail(`"lora_dropout" is ${dropout}: it must lie in [0, 1)`);
  return {
    // PEFT's own defaults when the file leaves them out.
    rank,
    alpha: num('lora_alpha', 8),
    dropout,
    rsLora: json.use_rslora === true,
    targets: Object.fromEntries(
      loraModules.map((m) => [m, targets.includes(m)]),
    ) as LoraConfig['targets'],
  };
}

/** Parses adapter_config.json's text into settings (see loraConfigOfPeft). */
export function parsePeftConfig(configJson: string): LoraConfig {
  let json: unknown;
  try {
    json = JSON.parse(configJson);
  } catch (error) {
    throw new Error(`adapter_config.json is not valid JSON (${String(error)}).`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new Error('adapter_config.json is not a JSON object of settings.');
  return loraConfigOfPeft(json as Record<string, unknown>);
}

/**
 * An adapter on the active backend from weights by PEFT's names (`peftTensors`); `extra`
 * names tensors that may sit beside them (a scalar head) and are left to the caller.
 */
export function adapterFromPeftTensors(
  model: ModelConfig,
  settings: LoraConfig,
  tensors: Map<string, NamedArray>,
  extra: string[] = [],
): LoraAdapter {
  const pairs = new Map<string, { a?: tf.Tensor; b?: tf.Tensor }>();
  try {
    for (const [name, t] of tensors) {
      if (extra.includes(name)) continue;
      const match = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
      if (!match)
        throw new Error(`The adapter's weights have a tensor "${name}" that is not a LoRA weight.`);
      const pair = pairs.get(match[1]!) ?? {};
      pair[match[2] === 'A' ? 'a' : 'b'] = tf.tensor(t.data, t.shape, 'float32');
      pairs.set(match[1]!, pair);
    }
    const complete = new Map<string, { a: tf.Tensor; b: tf.Tensor }>();
    for (const [path, pair] of pairs) {
      if (!pair.a || !pair.b)
        throw new Error(`The adapter's weights have only one of lora_A and lora_B for ${path}.`);
      complete.set(path, { a: pair.a, b: pair.b });
    }
    return new LoraAdapter(model, settings, complete);
  } finally {
    for (const p of pairs.values()) tf.dispose([p.a, p.b].filter((t) => t !== undefined));
  }
}

/** An adapter from PEFT's files for a base of `model`'s architecture. */
export function fromPeft(model: ModelConfig, configJson: string, weights: Uint8Array): LoraAdapter {
  return adapterFromPeftTensors(
    model,
    parsePeftConfig(configJson),
    readSafetensors(weights).tensors,
  );
}

/**
 * PEFT's folder from one of this app's adapter checkpoints (adapter weights by PEFT's names,
 * adapter_config.json in the metadata): what `PeftModel.from_pretrained` reads.
 */
export function peftFilesOfCheckpoint(bytes: Uint8Array): PeftFiles {
  const { tensors, metadata } = readSafetensors(bytes);
  const config = metadata[peftConfigKey];
  if (!config)
    throw new Error(
      'This checkpoint is a whole model, not a LoRA adapter: there is no adapter to export (train with a LoRA rank above 0).',
    );
  parsePeftConfig(config); // a config this app cannot read is not exported either
  const weights = new Map([...tensors].filter(([name]) => name.startsWith(prefix)));
  return {
    'adapter_config.json': config,
    'adapter_model.safetensors': writeSafetensors(weights, { format: 'pt' }),
  };
}

/**
 * Checks PEFT's two files before they are trusted (an export copies them, a load builds them):
 * the config readable and saying what `expected` says (rank, alpha, dropout, rsLoRA, targets),
 * the weights a safetensors file of LoRA pairs only, each of rank r and, with the `base`
 * architecture known, of its module's shape at every layer, every value finite. `where` names
 * the folder in every message.
 */
export function checkPeftFiles(
  files: PeftFiles,
  where: string,
  expected: LoraConfig,
  base: ModelConfig | null,
): void {
  const fail = (what: string) => new Error(`The adapter in ${where}: ${what}.`);
  let settings: LoraConfig;
  try {
    settings = parsePeftConfig(files['adapter_config.json']);
  } catch (error) {
    throw fail((error as Error).message.replace(/\.$/, ''));
  }
  const differ = (['rank', 'alpha', 'dropout', 'rsLora'] as const).filter(
    (k) => settings[k] !== expected[k],
  );
  if (targetModules(settings).join() !== targetModules(expected).join())
    differ.push('targets' as never);
  if (differ.length)
    throw fail(
      `its adapter_config.json says ${differ.map((k) => `${k} ${JSON.stringify(settings[k])}`).join(', ')}, but the run trained ${differ.map((k) => `${k} ${JSON.stringify(expected[k])}`).join(', ')}: it is not this run's adapter`,
    );
  const file = `adapter_model.safetensors of ${where}`;
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], file);
  if (tensors.size === 0) throw fail('adapter_model.safetensors holds no tensor');
  const shapes = base && moduleShapes(base);
  const halves = new Map<string, string[]>(); // module path → "A", "B"
  const pattern =
    /^base_model\.model\.(model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+))\.lora_([AB])\.weight$/;
  for (const [name, t] of tensors) {
    const m = pattern.exec(name);
    const module = m?.[3] as LoraModule | undefined;
    if (!m || !module || !settings.targets[module])
      throw fail(`"${name}" is not a LoRA weight of a targeted module`);
    if (base && Number(m[2]) >= base.num_hidden_layers)
      throw fail(`"${name}" is past the base's ${base.num_hidden_layers} layers`);
    const [out, inp] = shapes ? shapes[module] : [t.shape[0]!, t.shape[1]!];
    const want = m[4] === 'A' ? [settings.rank, inp] : [out, settings.rank];
    if (t.shape.join() !== want.join())
      throw fail(`"${name}" has shape [${t.shape}], expected [${want}] (rank ${settings.rank})`);
    checkFinite(name, t.data, file);
    halves.set(m[1]!, [...(halves.get(m[1]!) ?? []), m[4]!]);
  }
  for (const [path, got] of halves)
    if (got.length !== 2) throw fail(`${path} has lora_${got[0]} without its other half`);
  const modules = base ? base.num_hidden_layers * targetModules(settings).length : halves.size;
  if (halves.size !== modules)
    throw fail(`it adapts ${halves.size} modules; the base has ${modules} targeted ones`);
}
