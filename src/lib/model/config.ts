/**
 * The model's configuration, with Hugging Face's `LlamaForCausalLM` field names so that
 * config.json files round-trip and SmolLM2-style checkpoints load with the same code.
 */
export interface LlamaConfig {
  architectures: ['LlamaForCausalLM'];
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number; // d
  intermediate_size: number; // SwiGLU hidden width
  num_hidden_layers: number;
  num_attention_heads: number; // H
  num_key_value_heads: number; // kvH (grouped-query attention when < H)
  head_dim: number; // d / H
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  attention_bias: false;
  mlp_bias: false;
  initializer_range: number;
  bos_token_id: number | null;
  eos_token_id: number | number[];
  pad_token_id: number;
  torch_dtype: 'float32';
}

/** The shipped tiny model's shape (about 1M parameters). */
export function tinyConfig(vocabSize: number, special: { eos: number; pad: number }): LlamaConfig {
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

/** Reads a config.json, filling HF's defaults and rejecting what this model cannot run. */
export function parseLlamaConfig(json: Record<string, unknown>): LlamaConfig {
  const num = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`config.json: "${key}" must be a number.`);
    return value;
  };
  if (json.model_type !== undefined && json.model_type !== 'llama')
    throw new Error(
      `config.json: model_type "${String(json.model_type)}" is not supported (only "llama").`,
    );
  const heads = num('num_attention_heads');
  const hidden = num('hidden_size');
  const config: LlamaConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: num('vocab_size'),
    hidden_size: hidden,
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: num('num_key_value_heads', heads),
    head_dim: num('head_dim', hidden / heads),
    max_position_embeddings: num('max_position_embeddings', 2048),
    rms_norm_eps: num('rms_norm_eps', 1e-6),
    rope_theta: num('rope_theta', 10000),
    tie_word_embeddings:
      json.tie_word_embeddings === undefined ? false : Boolean(json.tie_word_embeddings),
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    initializer_range: num('initializer_range', 0.02),
    bos_token_id: typeof json.bos_token_id === 'number' ? json.bos_token_id : null,
    eos_token_id: (json.eos_token_id as number | number[] | undefined) ?? 0,
    pad_token_id: typeof json.pad_token_id === 'number' ? json.pad_token_id : 0,
    torch_dtype: 'float32',
  };
  if (config.num_attention_heads % config.num_key_value_heads !== 0)
    throw new Error('config.json: num_attention_heads must be a multiple of num_key_value_heads.');
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu')
    throw new Error(
      `config.json: hidden_act "${String(json.hidden_act)}" is not supported (only "silu").`,
    );
  if (json.rope_scaling) throw new Error('config.json: rope_scaling is not supported.');
  return config;
}

/** Parameter names and shapes in HF's layout (linear weights are [out, in]). */
export function parameterShapes(c: LlamaConfig): Map<string, number[]> {
  const d = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, d]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(p + 'input_layernorm.weight', [d]);
    shapes.set(p + 'self_attn.q_proj.weight', [q, d]);
    shapes.set(p + 'self_attn.k_proj.weight', [kv, d]);
    shapes.set(p + 'self_attn.v_proj.weight', [kv, d]);
    shapes.set(p + 'self_attn.o_proj.weight', [d, q]);
    shapes.set(p + 'post_attention_layernorm.weight', [d]);
    shapes.set(p + 'mlp.gate_proj.weight', [c.intermediate_size, d]);
    shapes.set(p + 'mlp.up_proj.weight', [c.intermediate_size, d]);
    shapes.set(p + 'mlp.down_proj.weight', [d, c.intermediate_size]);
  }
  shapes.set('model.norm.weight', [d]);
  if (!c.tie_word_embeddings) shapes.set('lm_head.weight', [c.vocab_size, d]);
  return shapes;
}

export function parameterCount(c: LlamaConfig): number {
  let n = 0;
  for (const shape of parameterShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

export function eosIds(c: LlamaConfig): number[] {
  return Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id];
}
