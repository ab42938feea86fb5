import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/architecture/config.ts';
import { runFull, runStep } from '../model/generation/generate.ts';
import { LlamaModel, type KvCache } from '../model/architecture/llama.ts';
import { lossAndGrads } from '../training/train-step.ts';
import { randomBatch } from './train-bench.ts';

/**
 * Whole-decoder checks for the kernel check: what the fused kernels change beyond single ops
 * (joined q/k/v and gate/up products, residuals folded into products, the KV cache) is only
 * seen when a model runs. Fresh seeded weights (tfjs draws them the same on every backend).
 */

/** An output of a check, by name, read back. */
export type Named = [string, Float32Array];

/** A decoder layer's sizes: hidden, MLP, query and key/value heads, head size, vocabulary. */
export interface LayerSizes {
  d: number;
  m: number;
  heads: number;
  kvHeads: number;
  hd: number;
  vocab: number;
}

/** A two-layer decoder with the check's sizes, tied head. */
export function decoderConfig(s: LayerSizes): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: s.vocab,
    hidden_size: s.d,
    intermediate_size: s.m,
    num_hidden_layers: 2,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.hd,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: true,
    attention_bias: false,
    mlp_bias: false,
    initializer_range: 0.2,
  } as unknown as ModelConfig;
}

const read = async (name: string, t: tf.Tensor): Promise<Named> => [
  name,
  (await t.data()) as Float32Array,
];

/**
 * Generation as `generate` runs it: last-position logits of a left-padded prompt batch
 * (prefill), then of two cached steps, one token per row.
 */
export async function generationOutputs(config: ModelConfig): Promise<Named[]> {
  const model = LlamaModel.init(config, 3);
  const ids = [
    [0, 0, 5, 9, 2, 7],
    [4, 8, 1, 3, 6, 2],
  ];
  const mask = ids.map((row, b) => row.map((_, t) => (b === 0 && t < 2 ? 0 : 1)));
  try {
    return await model.withFrozenWeights(async () => {
      const out: Named[] = [];
      const first = runFull(model, ids, mask, true);
      out.push(await read('prefill logits', first.logits));
      let cache: KvCache = { keys: first.keys, values: first.values, length: 6 };
      const owned: tf.Tensor[] = [first.logits];
      for (let step = 0; step < 2; step++) {
        mask.forEach((row) => row.push(1));
        const positions = [4 + step, 6 + step];
        const next = runStep(model, [step + 1, step + 2], positions, mask, cache);
        out.push(await read(`step ${step + 1} logits`, next.logits));
        owned.push(...cache.keys, ...cache.values, next.logits);
        cache = { keys: next.keys, values: next.values, length: cache.length + 1 };
      }
      tf.dispose([...owned, ...cache.keys, ...cache.values]);
      return out;
    });
  } finally {
    model.dispose();
  }
}

/** A training step's loss and the gradient of every weight (in parameter order, joined). */
export async function trainingOutputs(config: ModelConfig): Promise<Named[]> {
  const model = LlamaModel.init(config, 3);
  const batch = randomBatch(config.vocab_size, 2, 12, 5);
  batch.keyMask[0]!.fill(0, 0, 3); // left padding in the first row
  batch.lossMask[0]!.fill(0, 0, 3);
  try {
    const { loss, grads } = lossAndGrads(model, batch);
    const joined = tf.concat([...model.params.keys()].map((n) => tf.reshape(grads.get(n)!, [-1])));
    const out = [await read('loss', loss), await read('d weights', joined)];
    tf.dispose([loss, joined, ...grads.values()]);
    return out;
  } finally {
    model.dispose();
  }
}
