import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkpointShapes } from '../../scripts/lib/random-checkpoint.ts';
import { AdamW } from '../../src/lib/training/adamw.ts';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { parameterCount } from '../../src/lib/model/architecture/parameters.ts';
import {
  adapterParameters,
  memoryPlan,
  planLines,
  wasmHeapBytes,
} from '../../src/lib/model/memory-plan.ts';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { batchInputs } from '../../src/lib/model/architecture/layers.ts';
import { LoraAdapter } from '../../src/lib/model/adapters/lora.ts';
import {
  defaultLoraConfig,
  realModelLora,
  type LoraConfig,
} from '../../src/lib/model/adapters/lora-config.ts';
import {
  checkPeftFiles,
  fromPeft,
  loraConfigOfPeft,
  toPeft,
  type PeftFiles,
} from '../../src/lib/model/checkpoints/peft.ts';
import {
  readSafetensors,
  writeSafetensors,
  type NamedArray,
} from '../../src/lib/model/checkpoints/safetensors.ts';
import { ScalarHeadModel } from '../../src/lib/model/adapters/scalar-head.ts';
import { trainStep, type LmBatch } from '../../src/lib/training/train-step.ts';
import { snapshot, testConfig } from './model-helpers.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

const config = testConfig({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] });
const settings: LoraConfig = { ...defaultLoraConfig, rank: 4, alpha: 8, dropout: 0 };
const ids = [
  [0, 3, 4, 5, 6],
  [7, 8, 9, 10, 11],
];
const keyMask = [
  [0, 1, 1, 1, 1],
  [1, 1, 1, 1, 1],
];
const batch: LmBatch = {
  ids,
  keyMask,
  targets: ids.map((row) => [...row.slice(1), 2]),
  lossMask: keyMask,
};

function logitsOf(model: LlamaModel): number[][][] {
  return tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(ids, keyMask));
    return model.logits(hidden).arraySync() as number[][][];
  });
}

const maxDiff = (a: number[][][], b: number[][][]) =>
  Math.max(...a.flat(2).map((v, i) => Math.abs(v - b.flat(2)[i]!)));

/** An adapter whose B is not zero, so it changes the model. */
function activeAdapter(seed: number, s = settings): LoraAdapter {
  const adapter = LoraAdapter.init(config, s, seed);
  for (const pair of adapter.pairs.values())
    pair.b.assign(tf.randomNormal(pair.b.shape, 0, 0.2, 'float32', seed++));
  return adapter;
}

describe('LoRA', () => {
  test('a new adapter changes nothing; an active one equals its merged weights', () => {
    const base = LlamaModel.init(config, 1, true);
    const plain = logitsOf(base);
    const fresh = LoraAdapter.init(config, settings, 2);
    expect(maxDiff(logitsOf(base.adapted(fresh)), plain)).toBe(0);
    const adapter = activeAdapter(3);
    const adapted = logitsOf(base.adapted(adapter));
    expect(maxDiff(adapted, plain)).toBeGreaterThan(1e-3);
    const merged = new Map<string, tf.Tensor>();
    for (const [name, w] of base.params) {
      const path = name.replace(/\.weight$/, '');
      merged.set(
        name,
        adapter.pairs.has(path) ? adapter.merged(path, w as tf.Tensor2D) : tf.clone(w),
      );
    }
    const mergedModel = new LlamaModel(config, merged);
    expect(maxDiff(logitsOf(mergedModel), adapted)).toBeLessThan(1e-5);
    // The scale is alpha / r, or alpha / sqrt(r) with rsLoRA.
    expect(adapter.scale).toBe(2);
    expect(LoraAdapter.init(config, { ...settings, rsLora: true }, 1).scale).toBe(4);
    tf.dispose([...merged.values()]);
    [base, mergedModel, fresh, adapter].forEach((m) => m.dispose());
  });

  test('2 steps: every adapter weight changed, every base weight identical', async () => {
    const base = LlamaModel.init(config, 4, true);
    const adapter = LoraAdapter.init(config, { ...settings, dropout: 0.1 }, 5);
    base.adapter = adapter;
    adapter.training = true;
    expect(() => new AdamW(new LlamaModel(config, base.weights(), true).trainable())).toThrow(
      'This base model is frozen',
    );
    const baseBefore = await snapshot(base.params);
    const adapterBefore = await snapshot(adapter.named());
    const optimizer = new AdamW(base.trainable());
    const memory = tf.memory().numTensors;
    for (let step = 0; step < 2; step++) await trainStep(base, optimizer, batch, 1e-2);
    expect(tf.memory().numTensors).toBe(memory);
    const baseAfter = await snapshot(base.params);
    for (const [name, before] of baseBefore) expect(baseAfter.get(name), name).toEqual(before);
    for (const [name, v] of adapter.named()) {
      const now = await v.data();
      const old = adapterBefore.get(name)!;
      const unchanged = Array.from(now.keys()).filter((i) => now[i] === old[i]);
      expect(unchanged, name).toEqual([]);
    }
    base.dispose();
    adapter.dispose();
  });

  test('one frozen base serves the policy, the reference, the reward and the value model', () => {
    const base = LlamaModel.init(config, 6, true);
    const policy = activeAdapter(7);
    const reward = ScalarHeadModel.onBase(base, activeAdapter(9), 10);
    const value = reward.copy(11);
    const tensorsBefore = tf.memory().numTensors;
    const reference = logitsOf(base); // adapters off
    const withPolicy = logitsOf(base.adapted(policy));
    expect(maxDiff(withPolicy, reference)).toBeGreaterThan(1e-3);
    expect(logitsOf(base)).toEqual(reference); // the policy adapter is off again
    const scores = (m: ScalarHeadModel) => tf.tidy(() => m.scores(ids, keyMask).arraySync());
    expect(scores(value)).toEqual(scores(reward)); // the value starts as the reward
    // The reward model trains its adapter and head only; the base holds no copy.
    expect(
      [...reward.params.keys()].every((n) => n.includes('lora_') || n === 'score.weight'),
    ).toBe(true);
    expect(reward.trunk).toBe(base);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    value.dispose();
    reward.dispose();
    expect(base.params.get('model.norm.weight')!.isDisposed).toBe(false);
    policy.dispose();
    base.dispose();
  });
});

describe('PEFT files', () => {
  test('round-trip in PEFT’s layout and names', async () => {
    const base = LlamaModel.init(config, 12, true);
    const adapter = activeAdapter(13, {
      ...settings,
      targets: { ...settings.targets, k_proj: false, down_proj: false },
    });
    const files = await toPeft(adapter, 'owner/base-model');
    const json = JSON.parse(files['adapter_config.json']);
    expect(json).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'owner/base-model',
      r: 4,
      lora_alpha: 8,
      target_modules: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj'],
      bias: 'none',
    });
    const { tensors } = readSafetensors(files['adapter_model.safetensors']);
    expect(
      tensors.get('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight')!.shape,
    ).toEqual([4, 16]);
    expect(tensors.get('base_model.model.model.layers.0.mlp.up_proj.lora_B.weight')!.shape).toEqual(
      [24, 4],
    );
    expect(tensors.size).toBe(2 * 2 * 5);
    const back = fromPeft(config, files['adapter_config.json'], files['adapter_model.safetensors']);
    expect(back.settings).toEqual(adapter.settings);
    const a = logitsOf(base.adapted(adapter));
    expect(logitsOf(base.adapted(back))).toEqual(a);
    [base, adapter, back].forEach((m) => m.dispose());
  });

  test("an adapter is checked before it is trusted: config, this run's settings, shapes, values (issue 35, item 10)", async () => {
    const adapter = activeAdapter(21, settings);
    const good = await toPeft(adapter, 'owner/base-model');
    adapter.dispose();
    const where = 'the folder out/adapter';
    const check =
      (files: Partial<PeftFiles>, expected = settings, base: typeof config | null = config) =>
      () =>
        checkPeftFiles({ ...good, ...files }, where, expected, base);
    expect(check({})).not.toThrow();
    expect(check({}, settings, null)).not.toThrow();
    const weights = readSafetensors(good['adapter_model.safetensors']).tensors;
    const write = (change: (t: Map<string, NamedArray>) => void) => {
      const copy = new Map(
        [...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]),
      );
      change(copy);
      return writeSafetensors(copy);
    };
    const someA = [...weights.keys()].find((n) => n.endsWith('lora_A.weight'))!;
    const cases: [Partial<PeftFiles>, RegExp, LoraConfig?][] = [
      [
        { 'adapter_model.safetensors': new TextEncoder().encode('garbage!') },
        /adapter_model\.safetensors of the folder out\/adapter is not a safetensors file/,
      ],
      [{ 'adapter_model.safetensors': writeSafetensors(new Map()) }, /holds no tensor/],
      [
        { 'adapter_config.json': '{' },
        /The adapter in the folder out\/adapter: adapter_config\.json is not valid JSON/,
      ],
      [
        { 'adapter_config.json': good['adapter_config.json'].replace('"r": 4', '"r": 0') },
        /"r" is 0: an adapter's rank must be a whole number/,
      ],
      [
        {
          'adapter_config.json': good['adapter_config.json'].replace(
            '"lora_alpha": 8',
            '"lora_alpha": 32',
          ),
        },
        /says alpha 32, but the run trained alpha 8: it is not this run's adapter/,
      ],
      [
        { 'adapter_model.safetensors': write((t) => t.get(someA)!.data.fill(NaN)) },
        /holds NaN at value 0/,
      ],
      [
        {
          'adapter_model.safetensors': write((t) =>
            t.set(someA, { shape: [3, 16], data: new Float32Array(48) }),
          ),
        },
        /has shape \[3,16\], expected \[4,\d+\] \(rank 4\)/,
      ],
      [{ 'adapter_model.safetensors': write((t) => t.delete(someA)) }, /without its other half/],
      [
        {
          'adapter_model.safetensors': write((t) =>
            t.set('base_model.model.lm_head.lora_A.weight', {
              shape: [1],
              data: new Float32Array(1),
            }),
          ),
        },
        /"base_model\.model\.lm_head\.lora_A\.weight" is not a LoRA weight of a targeted module/,
      ],
    ];
    for (const [files, message, expected] of cases)
      expect(check(files, expected), String(message)).toThrow(message);
  });

  test('what cannot be applied is refused by name', () => {
    const ok = { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj'] };
    expect(loraConfigOfPeft(ok).targets.q_proj).toBe(true);
    expect(() => loraConfigOfPeft({ ...ok, use_dora: true })).toThrow(
      '"use_dora": true is not supported',
    );
    expect(() => loraConfigOfPeft({ ...ok, target_modules: ['lm_head'] })).toThrow(
      'target module "lm_head" is not one of',
    );
    expect(() => loraConfigOfPeft({ ...ok, magic: 1 })).toThrow(
      'the key "magic" is not understood',
    );
    expect(() => loraConfigOfPeft({ ...ok, rank_pattern: { q_proj: 4 } })).toThrow(
      '"rank_pattern"',
    );
    // A rank of 0 divides by zero (alpha / r: NaN weights); half a rank has no shape.
    for (const r of [0, -2, 2.5, 1e6])
      expect(() => loraConfigOfPeft({ ...ok, r })).toThrow(
        `"r" is ${r}: an adapter's rank must be a whole number from 1 to 1024`,
      );
    expect(() => loraConfigOfPeft({ ...ok, lora_dropout: 1 })).toThrow('"lora_dropout" is 1');
  });
});

describe('memory plan', () => {
  test('adapter sizes by hand; a plan over the WASM heap is refused with what to change', () => {
    // Per layer, rank 4: q (16+16)·4, k and v (8+16)·4, o (16+16)·4, gate and up (24+16)·4,
    // down (16+24)·4 = 928; two layers.
    expect(adapterParameters(config, settings)).toBe(2 * 928);
    const smol = parseModelConfig({ ...checkpointShapes['smollm2-135m'] });
    const limits = { backend: 'wasm', totalBytes: wasmHeapBytes, maxTensorBytes: null };
    const big = memoryPlan(smol, null, { batch: 64, promptTokens: 64, answerTokens: 512 }, limits);
    expect(big.fits).toBe(false);
    expect(big.advice.slice(1)).toEqual([
      'train LoRA adapters instead of every weight (one base, not four)',
      'a smaller batch (32)',
      'shorter answers (256 tokens)',
    ]);
    expect(planLines(big).at(-1)).toMatch(
      /^Does not fit: needs about [\d.]+ GiB but the wasm backend holds 4\.00 GiB/,
    );
    const small = memoryPlan(
      smol,
      realModelLora,
      { batch: 1, promptTokens: 16, answerTokens: 48 },
      limits,
    );
    expect(small.fits).toBe(true);
    expect(small.items[0]).toEqual({
      what: 'base weights (one frozen copy)',
      bytes: parameterCount(smol) * 4,
    });
    // The largest tensor over a GPU adapter's buffer limit is refused too.
    const gpu = memoryPlan(
      smol,
      realModelLora,
      { batch: 1, promptTokens: 16, answerTokens: 48 },
      {
        backend: 'webgpu',
        totalBytes: null,
        maxTensorBytes: 64 * 2 ** 20,
      },
    );
    expect(gpu.advice[0]).toContain('its largest tensor is 108.0 MiB, over the webgpu adapter');
  });

  test('each RL-CAI method holds its own models: PPO four, GRPO and RLOO three, DPO two', () => {
    const smol = parseModelConfig({ ...checkpointShapes['smollm2-135m'] });
    const limits = { backend: 'wasm', totalBytes: null, maxTensorBytes: null };
    const shape = { batch: 4, promptTokens: 64, answerTokens: 48 };
    const weights = parameterCount(smol) * 4;
    const plan = (method: 'ppo' | 'dpo' | 'grpo' | 'rloo', lora: typeof realModelLora | null) =>
      memoryPlan(smol, lora, { ...shape, method }, limits);
    expect(plan('ppo', null).items.slice(0, 2)).toEqual([
      { what: 'weights of policy, reference, reward and value models', bytes: 4 * weights },
      { what: 'AdamW states and gradients of policy and value', bytes: 2 * 3 * weights },
    ]);
    expect(plan('grpo', null).items[0]).toEqual({
      what: 'weights of policy, reference and reward models',
      bytes: 3 * weights,
    });
    expect(plan('rloo', null).items[1]!.bytes).toBe(3 * weights);
    expect(plan('dpo', null).items[0]).toEqual({
      what: 'weights of policy and reference models',
      bytes: 2 * weights,
    });
    // Without a method the plan is PPO's; with LoRA every method keeps one base.
    expect(memoryPlan(smol, null, shape, limits)).toEqual(plan('ppo', null));
    const adapter = (adapterParameters(smol, realModelLora) + smol.hidden_size) * 4;
    expect(plan('dpo', realModelLora).items[1]).toEqual({
      what: `LoRA adapters (policy; rank ${realModelLora.rank}) and heads`,
      bytes: adapter,
    });
    expect(plan('ppo', realModelLora).items[1]!.bytes).toBe(3 * adapter);
    expect(plan('ppo', realModelLora).items[2]!.bytes).toBe(2 * 3 * adapter);
  });
});
