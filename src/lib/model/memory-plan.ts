/**
 * A memory plan made before a model is loaded: what the weights, the trained weights' optimizer
 * states, the KV cache, a training step's activations and the chunked log-probs will take for
 * the configured batch and lengths, against what the backend can hold. A plan that does not
 * fit says by how much and what to change. All sizes are float32, as tfjs computes.
 */
import { chunkElements } from '../ops/head-logprobs.ts';
import { type ModelConfig } from './architecture/config.ts';
import { parameterCount } from './architecture/parameters.ts';
import { moduleShapes } from './adapters/lora.ts';
import { targetModules, type LoraConfig } from './adapters/lora-config.ts';
import { formatBytes } from '../util/format-bytes.ts';
import type { RlMethod } from '../domain/modes.ts';

export interface PlanShape {
  /** Sequences per generation batch and per training step. */
  batch: number;
  promptTokens: number;
  answerTokens: number;
  /** The RL-CAI method, which decides the models held at once (PPO when not given). */
  method?: RlMethod;
}

/** The models each RL-CAI method holds during its training, and those it trains (the policy
 * and, in PPO, the value model): PPO four, GRPO and RLOO three (no value model), DPO two (no
 * reward model). */
const heldModels: Record<RlMethod, { held: string[]; trained: string[] }> = {
  ppo: { held: ['policy', 'reference', 'reward', 'value'], trained: ['policy', 'value'] },
  grpo: { held: ['policy', 'reference', 'reward'], trained: ['policy'] },
  rloo: { held: ['policy', 'reference', 'reward'], trained: ['policy'] },
  dpo: { held: ['policy', 'reference'], trained: ['policy'] },
};

/** "policy, reference and reward" */
const listed = (names: string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]!;

export interface BackendLimits {
  backend: string;
  /** Everything the backend can hold at once (WASM: its 4 GiB heap); null when unknown. */
  totalBytes: number | null;
  /** The largest single tensor (WebGPU: the adapter's maxBufferSize); null when unlimited. */
  maxTensorBytes: number | null;
}

export interface PlanItem {
  what: string;
  bytes: number;
}

export interface MemoryPlan {
  items: PlanItem[];
  /** The peak: everything of PPO's update step held at once. */
  totalBytes: number;
  largestTensorBytes: number;
  limits: BackendLimits;
  fits: boolean;
  /** What is wrong and what to change, in words (empty when it fits). */
  advice: string[];
}

const float = 4;
export const wasmHeapBytes = 4 * 2 ** 30;

/** Trainable parameters of one LoRA adapter on this architecture. */
export function adapterParameters(c: ModelConfig, lora: LoraConfig): number {
  const shapes = moduleShapes(c);
  const perLayer = targetModules(lora).reduce((n, m) => {
    const [out, inp] = shapes[m];
    return n + lora.rank * (out + inp);
  }, 0);
  return perLayer * c.num_hidden_layers;
}

/**
 * The plan for the heaviest stage, RL-CAI's training by the shape's method: one base (or,
 * fully fine-tuned, a copy per model the method holds: PPO's policy, reference, reward and
 * value), adapters and heads with AdamW states, a KV cache for generation, and one update
 * step's saved activations.
 */
export function memoryPlan(
  c: ModelConfig,
  lora: LoraConfig | null,
  shape: PlanShape,
  limits: BackendLimits,
): MemoryPlan {
  const params = parameterCount(c);
  const d = c.hidden_size;
  const kv = c.num_key_value_heads * c.head_dim;
  const m = c.intermediate_size;
  const s = shape.promptTokens + shape.answerTokens;
  const rows = shape.batch * s;
  const items: PlanItem[] = [];
  const { held, trained } = heldModels[shape.method ?? 'ppo'];
  if (lora) {
    // The reference is the base with the SL-CAI adapter: every model but it has an adapter.
    const adapters = held.filter((m) => m !== 'reference');
    const adapter = adapterParameters(c, lora) + d; // an adapter and a scalar head
    items.push({ what: 'base weights (one frozen copy)', bytes: params * float });
    items.push({
      what: `LoRA adapters (${adapters.join(', ')}; rank ${lora.rank}) and heads`,
      bytes: adapters.length * adapter * float,
    });
    items.push({
      what: 'AdamW states and gradients of the trained adapters',
      bytes: 3 * trained.length * adapter * float,
    });
  } else {
    items.push({
      what: `weights of ${listed(held)} models`,
      bytes: held.length * params * float,
    });
    items.push({
      what: `AdamW states and gradients of ${listed(trained)}`,
      bytes: 3 * trained.length * params * float,
    });
  }
  items.push({
    what: `KV cache (batch ${shape.batch} × ${s} tokens)`,
    bytes: 2 * c.num_hidden_layers * shape.batch * kv * s * float,
  });
  // A gradient keeps every intermediate of its forward pass until the backward (tfjs frees the
  // forward's scope only at its end): fitted to `npm run bench -- --model` on SmolLM2-135M's
  // shapes (about 32 MiB per layer for 64 tokens), plus the attention's [H, S] rows.
  const perLayer = rows * (110 * d + 45 * m + 10 * c.num_attention_heads * s);
  items.push({
    what: 'activations kept for one training step',
    bytes: c.num_hidden_layers * perLayer * float,
  });
  const chunkRows = Math.max(1, Math.min(rows, Math.floor(chunkElements / c.vocab_size)));
  items.push({
    what: 'log-probs over the vocabulary, one chunk at a time',
    bytes: 4 * chunkRows * c.vocab_size * float,
  });
  if (limits.backend === 'wasm' && !lora)
    // WASM multiplies without transpose flags: a trained weight's transposed copy lives until
    // the backward needs it (a frozen base's never gets one: ops/matmul.ts frozenProduct).
    items.push({ what: 'transposed weight copies during a step (WASM)', bytes: params * float });
  const totalBytes = items.reduce((n, i) => n + i.bytes, 0);
  const largestTensorBytes = Math.max(c.vocab_size * d, m * d, rows * m) * float;
  const advice: string[] = [];
  if (limits.totalBytes !== null && totalBytes > limits.totalBytes) {
    advice.push(
      `needs about ${formatBytes(totalBytes)} but the ${limits.backend} backend holds ${formatBytes(limits.totalBytes)}`,
    );
    if (!lora)
      advice.push(
        `train LoRA adapters instead of every weight (one base, not ${held.length === 4 ? 'four' : held.length === 3 ? 'three' : 'two'})`,
      );
    if (shape.batch > 1)
      advice.push(`a smaller batch (${Math.max(1, Math.floor(shape.batch / 2))})`);
    if (shape.answerTokens > 16)
      advice.push(`shorter answers (${Math.floor(shape.answerTokens / 2)} tokens)`);
  }
  if (limits.maxTensorBytes !== null && largestTensorBytes > limits.maxTensorBytes)
    advice.push(
      `its largest tensor is ${formatBytes(largestTensorBytes)}, over the ${limits.backend} adapter's limit of ${formatBytes(limits.maxTensorBytes)} per buffer`,
    );
  return { items, totalBytes, largestTensorBytes, limits, fits: advice.length === 0, advice };
}

/** The plan as lines of text (the command line and the page show the same). */
export function planLines(plan: MemoryPlan): string[] {
  const lines = plan.items.map((i) => `${formatBytes(i.bytes).padStart(10)}  ${i.what}`);
  lines.push(
    `${formatBytes(plan.totalBytes).padStart(10)}  in all (the peak, during PPO's update)`,
  );
  const limit =
    plan.limits.totalBytes === null ? 'no known limit' : formatBytes(plan.limits.totalBytes);
  lines.push(
    plan.fits
      ? `Fits the ${plan.limits.backend} backend (${limit}).`
      : `Does not fit: ${plan.advice[0]}. Try: ${plan.advice.slice(1).join('; ') || 'a smaller model'}.`,
  );
  return lines;
}
