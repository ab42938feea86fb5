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
  if (!(type in architectures))
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
    const rule = requiredValues[key];
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
  return config;
}

/** The projections of one layer with a bias, by the architecture's rules. */
export function biasedProjections(c: ModelConfig): string[] {
  if (c.model_type === 'qwen2') return ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'];
  const attn = c.attention_bias
    ? ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj']
    : [];
  const mlp = c.mlp_bias ? ['mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] : [];
  return [...attn, ...mlp];
}

/** Whether q and k get a per-head RMSNorm before the rotary embedding (Qwen3). */
export function hasQkNorm(c: ModelConfig): boolean {
  return c.model_type === 'qwen3';
}

/** Parameter names and shapes in HF's layout (linear weights are [out, in]). */
export function parameterShapes(c: ModelConfig): Map<string, number[]> {
  const d = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const linears: [string, number, number][] = [
    ['self_attn.q_proj', q, d],
    ['self_attn.k_proj', kv, d],
    ['self_attn.v_proj', kv, d],
    ['self_attn.o_proj', d, q],
    ['mlp.gate_proj', c.intermediate_size, d],
    ['mlp.up_proj', c.intermediate_size, d],
    ['mlp.down_proj', d, c.intermediate_size],
  ];
  const biased = new Set(biasedProjections(c));
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, d]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(p + 'input_layernorm.weight', [d]);
    for (const [name, out, inp] of linears) {
      shapes.set(`${p}${name}.weight`, [out, inp]);
      if (biased.has(name)) shapes.set(`${p}${name}.bias`, [out]);
    }
    if (hasQkNorm(c)) {
      shapes.set(p + 'self_attn.q_norm.weight', [c.head_dim]);
      shapes.set(p + 'self_attn.k_norm.weight', [c.head_dim]);
    }
    shapes.set(p + 'post_attention_layernorm.weight', [d]);
  }
  shapes.set('model.norm.weight', [d]);
  if (!c.tie_word_embeddings) shapes.set('lm_head.weight', [c.vocab_size, d]);
  return shapes;
}

/** The error for a stored tensor the architecture has no place for. */
export function unusedTensorError(c: ModelConfig, name: string, holder: string): Error {
  const tied = name === 'lm_head.weight' && c.tie_word_embeddings;
  return new Error(
    `${holder} has a tensor "${name}" that ${c.architectures[0]} with this config.json does not use${tied ? ' (tie_word_embeddings is true, so the output head is the embedding)' : ''}.`,
  );
}

/**
 * Checks a set of stored weights (name → shape) against the architecture: a tensor it does
 * not use, a missing weight or a wrong shape throws, naming it.
 */
export function checkWeightShapes(
  c: ModelConfig,
  stored: Map<string, readonly number[]>,
  holder: string,
): void {
  const shapes = parameterShapes(c);
  for (const name of stored.keys()) if (!shapes.has(name)) throw unusedTensorError(c, name, holder);
  for (const [name, shape] of shapes) {
    const got = stored.get(name);
    if (!got) throw new Error(`${holder} has no weight "${name}".`);
    if (got.join() !== shape.join())
      throw new Error(`${holder}: "${name}" has shape [${got}], expected [${shape}].`);
  }
}

export function parameterCount(c: ModelConfig): number {
  let n = 0;
  for (const shape of parameterShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

export function eosIds(c: ModelConfig): number[] {
  return Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id];
}
