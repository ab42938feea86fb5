import * as tf from '@tensorflow/tfjs-core';
import { maskedMean } from '../ops/logprobs.ts';
import type { AdamW } from './adamw.ts';
import { type LlamaModel } from '../model/architecture/llama.ts';
import { batchInputs } from '../model/architecture/layers.ts';

/** A padded batch for next-token training; every field is [B, T]. */
export interface LmBatch {
  ids: number[][];
  /** The token to predict at each position (ids shifted left by one). */
  targets: number[][];
  /** 1 where the loss counts (e.g. response tokens only in SFT), else 0. */
  lossMask: number[][];
  /** 1 for real tokens, 0 for padding. */
  keyMask: number[][];
}

/** Mean cross-entropy of the batch's targets where lossMask is 1. */
export function lmLoss(model: LlamaModel, batch: LmBatch): tf.Scalar {
  const { hidden } = model.forward(batchInputs(batch.ids, batch.keyMask));
  const { logprobs } = model.tokenLogprobs(hidden, tf.tensor2d(batch.targets, undefined, 'int32'));
  return tf.neg(maskedMean(logprobs, tf.tensor2d(batch.lossMask))) as tf.Scalar;
}

/**
 * Loss and gradients of what trains (all weights, or the attached LoRA adapter's), keyed by
 * HF parameter name (the caller disposes both).
 */
export function lossAndGrads(
  model: LlamaModel,
  batch: LmBatch,
): { loss: tf.Scalar; grads: Map<string, tf.Tensor> } {
  const trainable = model.trainable();
  const byVariable = new Map([...trainable].map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(() => lmLoss(model, batch), [...trainable.values()]);
  return {
    loss: value,
    grads: new Map(Object.entries(grads).map(([v, g]) => [byVariable.get(v)!, g])),
  };
}

/** One optimiser step; resolves to the loss before the step and the gradient norm. */
export async function trainStep(
  model: LlamaModel,
  optimizer: AdamW,
  batch: LmBatch,
  lr: number,
): Promise<{ loss: number; gradNorm: number }> {
  const { loss, grads } = lossAndGrads(model, batch);
  const norm = optimizer.apply(grads, lr);
  const [lossValue, normValue] = await Promise.all([loss.data(), norm.data()]);
  tf.dispose([loss, norm]);
  return { loss: lossValue[0]!, gradNorm: normValue[0]! };
}
