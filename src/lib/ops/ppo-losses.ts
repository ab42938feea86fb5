import * as tf from '@tensorflow/tfjs-core';
import { maskedMean } from './logprobs.ts';

/**
 * PPO's clipped losses, as TRL computes them. Every tensor is [B, T] over response tokens;
 * `mask` is 1 on real response tokens. Returned scalars are differentiable where noted.
 */

/**
 * Clipped surrogate: ratio = exp(logp - oldLogp); loss = mean(max(-A * ratio,
 * -A * clip(ratio, 1 - c, 1 + c))). Also the share of tokens where clipping was active
 * (clipfrac) and approx KL = 0.5 * mean((logp - oldLogp)^2), not differentiated.
 */
export function clippedPolicyLoss(
  logp: tf.Tensor2D,
  oldLogp: tf.Tensor2D,
  advantages: tf.Tensor2D,
  mask: tf.Tensor2D,
  clipRange: number,
): { loss: tf.Scalar; clipFrac: tf.Scalar; approxKl: tf.Scalar; ratio: tf.Tensor2D } {
  const logRatio = tf.sub(logp, oldLogp);
  const ratio = tf.exp(logRatio) as tf.Tensor2D;
  const unclipped = tf.neg(tf.mul(advantages, ratio));
  const clipped = tf.neg(tf.mul(advantages, tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange)));
  return {
    loss: maskedMean(tf.maximum(unclipped, clipped), mask),
    clipFrac: maskedMean(tf.cast(tf.greater(clipped, unclipped), 'float32'), mask),
    approxKl: tf.mul(0.5, maskedMean(tf.square(logRatio), mask)) as tf.Scalar,
    ratio,
  };
}

/**
 * Clipped value loss: vClipped = clip(v, oldV - c, oldV + c); loss = 0.5 * mean(max((v - R)^2,
 * (vClipped - R)^2)); and the share of tokens where the clipped term won (val/clipfrac).
 */
export function clippedValueLoss(
  values: tf.Tensor2D,
  oldValues: tf.Tensor2D,
  returns: tf.Tensor2D,
  mask: tf.Tensor2D,
  clipRange: number,
): { loss: tf.Scalar; clipFrac: tf.Scalar } {
  const clippedValues = tf.add(
    oldValues,
    tf.clipByValue(tf.sub(values, oldValues), -clipRange, clipRange),
  );
  const plain = tf.square(tf.sub(values, returns));
  const clipped = tf.square(tf.sub(clippedValues, returns));
  return {
    loss: tf.mul(0.5, maskedMean(tf.maximum(plain, clipped), mask)) as tf.Scalar,
    clipFrac: maskedMean(tf.cast(tf.greater(clipped, plain), 'float32'), mask),
  };
}

/**
 * Bradley-Terry loss with soft labels: with d = r_chosen - r_rejected and p the probability
 * that "chosen" is better, -(p log sigmoid(d) + (1 - p) log sigmoid(-d)), averaged; plus
 * `centering` * mean((r_chosen + r_rejected)^2), which keeps rewards near zero.
 */
export function bradleyTerryLoss(
  chosen: tf.Tensor1D,
  rejected: tf.Tensor1D,
  labels: tf.Tensor1D,
  centering = 0,
): tf.Scalar {
  const d = tf.sub(chosen, rejected);
  // -log sigmoid(x) = softplus(-x). (tf.logSigmoid's gradient fails when it runs inside
  // tf.variableGrads: its custom gradient reads a tensor that has been disposed.)
  const nll = tf.add(
    tf.mul(labels, tf.softplus(tf.neg(d))),
    tf.mul(tf.sub(1, labels), tf.softplus(d)),
  );
  const loss = tf.mean(nll);
  if (!centering) return loss as tf.Scalar;
  return tf.add(loss, tf.mul(centering, tf.mean(tf.square(tf.add(chosen, rejected))))) as tf.Scalar;
}
