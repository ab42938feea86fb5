import type { ModelConfig } from './config.ts';

/**
 * The weights an architecture has, by Hugging Face's names and shapes: which projections carry
 * a bias, the per-head norms of Qwen3, every parameter's shape, the check of stored weights
 * against them, and what they take as float32 once built.
 */

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

/** Float32 weights and rotary tables past this are refused whatever the backend (16 GiB). */
export const maxModelBytes = 16 * 2 ** 30;

/** Bytes the model takes as float32 in tfjs when built: its weights and its rotary tables. */
export function modelBytes(c: ModelConfig): number {
  const rope = 2 * c.max_position_embeddings * c.head_dim; // cos and sin [positions, hd]
  return 4 * (parameterCount(c) + rope);
}

/**
 * Throws when the model's float32 weights and rotary tables cannot be held: past `limitBytes`
 * (a backend's whole memory, as the memory plan knows it) or, when that is unknown, 16 GiB.
 */
export function checkModelBytes(c: ModelConfig, label: string, limitBytes: number | null): void {
  const bytes = modelBytes(c);
  const limit = Math.min(limitBytes ?? maxModelBytes, maxModelBytes);
  if (bytes <= limit) return;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  throw new Error(
    `${label}: its config.json describes a model of ${gib(bytes)} as float32 (${c.num_hidden_layers} layers, hidden ${c.hidden_size}, vocabulary ${c.vocab_size}, context ${c.max_position_embeddings}), more than the ${gib(limit)} this backend can hold. Nothing was loaded; pick a smaller model.`,
  );
}
