/**
 * The model's configuration, with Hugging Face's field names so that config.json files
 * round-trip: `LlamaForCausalLM` (SmolLM2, Llama 3.x), `Qwen2ForCausalLM` (Qwen2.5: q/k/v
 * biases) and `Qwen3ForCausalLM` (per-head RMSNorm of q and k). Every key of a config.json is
 * either used, known not to change the math, or an error naming it.
 */
import { ropeScalingOf, type RopeScaling } from './rope-scaling.ts';

export const architectures = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
} as const;
export type ModelType = keyof typeof architectures;

export interface ModelConfig {
  architectures: [(typeof architectures)[ModelType]];
  model_type: ModelType;
  vocab_size: number;
  hidden_size: number; // d
  intermediate_size: number; // SwiGLU hidden width
  num_hidden_layers: number;
  num_attention_heads: number; // H
  num_key_value_heads: number; // kvH (grouped-query attention when < H)
  head_dim: number; // hd (d / H unless the config says otherwise)
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: RopeScaling | null;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  /** Biases on q, k, v and o (Llama, Qwen3). Qwen2 always has q/k/v biases and never o's. */
  attention_bias: boolean;
  /** Biases on gate, up and down (Llama only). */
  mlp_bias: boolean;
  initializer_range: number;
  bos_token_id: number | null;
  eos_token_id: number | number[];
  pad_token_id: number;
  torch_dtype: string;
}

/** The shipped tiny model's shape (about 1M parameters). */
export function tinyConfig(vocabSize: number, special: { eos: number; pad: number }): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: 128,
    intermediate_size: 384,
    num_hidden_layers: 4,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 64,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    initializer_range: 0.02,
    bos_token_id: null,
    eos_token_id: special.eos,
    pad_token_id: special.pad,
    torch_dtype: 'float32',
  };
}

/**
 * Keys that never change this model's outputs (bookkeeping, training-only or generation
 * settings), and keys accepted only with the value that leaves the math as implemented.
 */
const inertKeys = new Set([
  '_name_or_path',
  'transformers_version',
  'transformers.js_config',
  'use_cache',
  'is_llama_config',
  'dtype',
  'pretraining_tp', // HF splits its matmuls into this many slices: the same products
  'sliding_window', // read only when use_sliding_window is true
  'max_window_layers', // likewise
  'output_attentions',
  'output_hidden_states',
  'return_dict',
]);
const requiredValues: Record<string, { ok: (v: unknown) => boolean; why: string }> = {
  attention_dropout: {
    ok: (v) => v === 0 || v === 0.0,
    why: 'attention dropout is not implemented',
  },
  use_sliding_window: {
    ok: (v) => v === false,
    why: 'sliding-window attention is not implemented',
  },
  rope_interleaved: {
    ok: (v) => v === false,
    why: 'only the rotate-half rotary layout is implemented',
  },
  layer_types: {
    ok: (v) => Array.isArray(v) && v.every((t) => t === 'full_attention'),
    why: 'only full attention layers are implemented',
  },
};
const usedKeys = new Set([
  'architectures',
  'model_type',
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'rope_scaling',
  'tie_word_embeddings',
  'hidden_act',
  'attention_bias',
  'mlp_bias',
  'initializer_range',
  'bos_token_id',
  'eos_token_id',
  'pad_token_id',
  'torch_dtype',
]);

/**
 * What a config.json may say before anything is allocated from it: every size a positive whole
 * number no checkpoint this app could hold exceeds, the norm's epsilon and the rotary base
 * positive. Past these a config is refused in milliseconds, naming the key, instead of minutes
 * of allocating before some later check fails.
 */
/** The largest value of each size key: far past any model that fits a browser tab. */
export const sizeLimits = {
  vocab_size: 2 ** 20,
  hidden_size: 2 ** 16,
  intermediate_size: 2 ** 18,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 2048,
  max_position_embeddings: 2 ** 21,
} as const satisfies Partial<Record<keyof ModelConfig, number>>;

/** Throws, naming the key, when a size is not a positive whole number within its limit. */
export function checkConfigSizes(c: ModelConfig): void {
  const fail = (what: string) => new Error(`config.json: ${what}.`);
  for (const [key, limit] of Object.entries(sizeLimits)) {
    const value = c[key as keyof typeof sizeLimits];
    if (!Number.isInteger(value) || value < 1)
      throw fail(`"${key}" must be a positive whole number (it is ${value})`);
    if (value > limit)
      throw fail(
        `"${key}" is ${value}, past ${limit}: no model this app can hold is that large, so the file is taken to be corrupt`,
      );
  }
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1))
    throw fail(`"rms_norm_eps" must lie between 0 and 1 (it is ${c.rms_norm_eps})`);
  if (!(c.rope_theta > 0)) throw fail(`"rope_theta" must be positive (it is ${c.rope_theta})`);
  if (!(c.initializer_range >= 0))
    throw fail(`"initializer_range" must not be negative (it is ${c.initializer_range})`);
}

/** Reads a config.json, filling HF's defaults and rejecting what this model cannot run. */
export function parseModelConfig(json: Record<string, unknown>): ModelConfig {
  const fail = (what: string) => new Error(`config.json: ${what}.`);
  const num = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw fail(`"${key}" must be a number`);
    return value;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'boolean') throw fail(`"${key}" must be true or false`);
    return value;
  };
  const type = (json.model_type ?? 'llama') as ModelType;
  if (!Object.hasOwn(architectures, type))
    throw fail(
      `model_type "${String(json.model_type)}" is not supported (only ${Object.keys(architectures).join(', ')})`,
    );
  const architecture = architectures[type];
  if (json.architectures !== undefined) {
    const named = json.architectures as unknown[];
    if (!Array.isArray(named) || named.length !== 1 || named[0] !== architecture)
      throw fail(
        `architectures ${JSON.stringify(json.architectures)} is not supported for model_type "${type}" (expected ["${architecture}"])`,
      );
  }
  for (const [key, value] of Object.entries(json)) {
    if (usedKeys.has(key) || inertKeys.has(key)) continue;
    const rule = Object.hasOwn(requiredValues, key) ? requiredValues[key] : undefined;
    if (rule && rule.ok(value)) continue;
    if (rule) throw fail(`"${key}": ${JSON.stringify(value)} is not supported (${rule.why})`);
    throw fail(
      `the key "${key}" is not understood by this app's ${architecture}; it may change the model's math, so the model is not loaded`,
    );
  }
  // Qwen2 has fixed biases (q, k and v) and neither Qwen has MLP biases: a key at the value the
  // math implements is accepted, any other value refused.
  if (type === 'qwen2' && json.attention_bias !== undefined)
    throw fail('Qwen2 has fixed biases (q, k and v); attention_bias does not apply');
  if (type !== 'llama' && json.mlp_bias !== undefined && json.mlp_bias !== false)
    throw fail(
      `"mlp_bias": ${JSON.stringify(json.mlp_bias)} is not supported (${architecture} has no MLP biases; only false)`,
    );
  const heads = num('num_attention_heads');
  const hidden = num('hidden_size');
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') throw fail(`hidden_act "${String(act)}" is not supported (only "silu")`);
  const eos = json.eos_token_id ?? 0;
  if (!(typeof eos === 'number' || (Array.isArray(eos) && eos.every((e) => typeof e === 'number'))))
    throw fail('"eos_token_id" must be a number or a list of numbers');
  const maxPositions = num('max_position_embeddings', 2048);
  const config: ModelConfig = {
    architectures: [architecture],
    model_type: type,
    vocab_size: num('vocab_size'),
    hidden_size: hidden,
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: num('num_key_value_heads', heads),
    head_dim: json.head_dim == null ? hidden / heads : num('head_dim'),
    max_position_embeddings: maxPositions,
    rms_norm_eps: num('rms_norm_eps', 1e-6),
    rope_theta: num('rope_theta', 10000),
    rope_scaling: ropeScalingOf(json.rope_scaling, maxPositions),
    tie_word_embeddings: bool('tie_word_embeddings', false),
    hidden_act: 'silu',
    attention_bias: type === 'qwen2' ? true : bool('attention_bias', false),
    mlp_bias: type === 'llama' ? bool('mlp_bias', false) : false,
    initializer_range: num('initializer_range', 0.02),
    bos_token_id: typeof json.bos_token_id === 'number' ? json.bos_token_id : null,
    eos_token_id: eos as number | number[],
    pad_token_id: typeof json.pad_token_id === 'number' ? json.pad_token_id : 0,
    torch_dtype: typeof json.torch_dtype === 'string' ? json.torch_dtype : 'float32',
  };
  if (!Number.isInteger(config.head_dim) || config.head_dim % 2 !== 0)
    throw fail('head_dim (hidden_size / num_attention_heads unless given) must be an even integer');
  if (config.num_attention_heads % config.num_key_value_heads !== 0)
    throw fail('num_attention_heads must be a multiple of num_key_value_heads');
  checkConfigSizes(config);
  return config;
}

export function eosIds(c: ModelConfig): number[] {
  return Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id];
}
