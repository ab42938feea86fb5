/**
 * What a checkpoint is, read from its config and its files' headers only (no weights): the
 * architecture, parameter count, stored dtypes, every tensor checked against the config, and
 * the memory plan. `npm run model -- inspect` prints it; the page shows the same lines.
 */
import { listTensors, readConfig, type FileSource } from './checkpoint.ts';
import { type ModelConfig } from '../architecture/config.ts';
import { checkWeightShapes, parameterCount } from '../architecture/parameters.ts';
import type { LoraConfig } from '../adapters/lora-config.ts';
import {
  memoryPlan,
  planLines,
  type BackendLimits,
  type MemoryPlan,
  type PlanShape,
} from '../memory-plan.ts';
import { formatBytes } from '../../util/format-bytes.ts';

export interface CheckpointReport {
  label: string;
  config: ModelConfig;
  parameters: number;
  /** Parameters stored in each dtype ("BF16": 134515008). */
  dtypes: Record<string, number>;
  files: string[];
  storedBytes: number;
  plan: MemoryPlan;
}

/** What the page is told of an inspection: its lines and the figures it acts on. */
export interface InspectResult {
  config: ModelConfig;
  lines: string[];
  fits: boolean;
  parameters: number;
  storedBytes: number;
}

export async function inspectCheckpoint(
  source: FileSource,
  options: { lora: LoraConfig | null; shape: PlanShape; limits: BackendLimits },
): Promise<CheckpointReport> {
  const config = await readConfig(source);
  const dtypes: Record<string, number> = {};
  let storedBytes = 0;
  const stored = new Map<string, number[]>();
  const files = await listTensors(source);
  for (const { entries } of files)
    for (const e of entries) {
      stored.set(e.name, e.shape);
      dtypes[e.dtype] = (dtypes[e.dtype] ?? 0) + e.shape.reduce((a, b) => a * b, 1);
      storedBytes += e.end - e.start;
    }
  checkWeightShapes(config, stored, source.label);
  return {
    label: source.label,
    config,
    parameters: parameterCount(config),
    dtypes,
    files: files.map((f) => f.file),
    storedBytes,
    plan: memoryPlan(config, options.lora, options.shape, options.limits),
  };
}

export function inspectLines(r: CheckpointReport): string[] {
  const c = r.config;
  const scaling = c.rope_scaling
    ? `, rope_scaling ${c.rope_scaling.rope_type} ×${c.rope_scaling.factor}`
    : '';
  return [
    `${r.label}: ${c.architectures[0]} (${c.model_type})`,
    `  ${(r.parameters / 1e6).toFixed(1)}M parameters; ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${c.num_attention_heads} heads / ${c.num_key_value_heads} KV heads of ${c.head_dim}, MLP ${c.intermediate_size}, vocabulary ${c.vocab_size}`,
    `  context ${c.max_position_embeddings}, rope_theta ${c.rope_theta}${scaling}; ${c.tie_word_embeddings ? 'tied' : 'untied'} output head${c.attention_bias || c.model_type === 'qwen2' ? '; attention biases' : ''}${c.mlp_bias ? '; MLP biases' : ''}${c.model_type === 'qwen3' ? '; q/k RMSNorm' : ''}`,
    `  stored: ${Object.entries(r.dtypes)
      .map(([d, n]) => `${d} ${(n / 1e6).toFixed(1)}M`)
      .join(
        ', ',
      )} in ${r.files.join(', ')} (${formatBytes(r.storedBytes)}); as float32 in tfjs: ${formatBytes(r.parameters * 4)}`,
    `Memory plan (${r.plan.limits.backend}):`,
    ...planLines(r.plan).map((l) => '  ' + l),
  ];
}
