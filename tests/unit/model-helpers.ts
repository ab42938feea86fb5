import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/lib/model/architecture/config.ts';

/** A tiny Llama for tests: 2 layers, 4 heads over 2 KV heads, vocabulary 19. */
export function testConfig(overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({
    model_type: 'llama',
    vocab_size: 19,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 32,
    tie_word_embeddings: true,
    initializer_range: 0.3,
    eos_token_id: 2,
    pad_token_id: 0,
    ...overrides,
  });
}

/** Every weight's values, to compare after training. */
export async function snapshot(params: Map<string, tf.Variable>) {
  return new Map(
    await Promise.all([...params].map(async ([n, v]) => [n, await v.data()] as const)),
  );
}

/**
 * Every element of every weight changed; for a model without its LM head (reward, value),
 * the embedding rows of tokens that never occur get no gradient, so only `usedTokens`' rows
 * of the embedding are checked there.
 */
export async function expectAllChanged(
  params: Map<string, tf.Variable>,
  before: Map<string, unknown>,
  usedTokens?: number[],
) {
  for (const [name, v] of params) {
    const now = await v.data();
    const old = before.get(name) as Float32Array;
    const d = v.shape[1] ?? 1;
    const checked =
      usedTokens && name === 'model.embed_tokens.weight'
        ? usedTokens.flatMap((t) => Array.from({ length: d }, (_, j) => t * d + j))
        : Array.from(now.keys());
    expect(
      checked.filter((i) => now[i] === old[i]).map((i) => Math.floor(i / d)),
      name,
    ).toEqual([]);
  }
}
