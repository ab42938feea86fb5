import * as tf from '@tensorflow/tfjs-core';
import { maskedMean } from './logprobs.ts';

/**
 * The policy losses of GRPO and RLOO on [B, T] token log-probs of the sampled answers, with
 * one advantage per answer ([B]) given to each of its tokens; `mask` is 1 on response tokens.
 */

/**
 * GRPO's per-token objective (Shao et al. 2024, as TRL computes it): the clipped surrogate
 * −min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A) with ρ = exp(log π − log π_old), plus β times the k3 KL
 * estimate exp(log π_ref − log π) − (log π_ref − log π) − 1, averaged over every response token
 * of the batch (TRL's token-level "dapo" normalisation). Also the share of clipped tokens and
 * the mean KL (no gradient needed).
 */
export function grpoLoss(
  logp: tf.Tensor2D,
  oldLogp: tf.Tensor2D,
  refLogp: tf.Tensor2D | null,
  advantages: tf.Tensor1D,
  mask: tf.Tensor2D,
  epsilon: number,
  beta: number,
): { loss: tf.Scalar; clipFrac: tf.Scalar; kl: tf.Scalar } {
  const a = tf.expandDims(advantages, 1); // [B, 1]
  const ratio = tf.exp(tf.sub(logp, oldLogp));
  const unclipped = tf.mul(ratio, a);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - epsilon, 1 + epsilon), a);
  let perToken: tf.Tensor = tf.neg(tf.minimum(unclipped, clipped));
  let kl: tf.Scalar = tf.scalar(0);
  if (refLogp && beta > 0) {
    const d = tf.sub(refLogp, logp);
    const k3 = tf.sub(tf.sub(tf.exp(d), d), 1);
    perToken = tf.add(perToken, tf.mul(beta, k3));
    kl = maskedMean(k3, mask);
  }
  return {
    loss: maskedMean(perToken, mask),
    // Clipping is active where the clipped term is the smaller: TRL's clip_ratio/region_mean.
    clipFrac: maskedMean(tf.cast(tf.less(clipped, unclipped), 'float32'), mask),
    kl,
  };
}

/**
 * RLOO's REINFORCE loss (Ahmadian et al. 2024): each answer is one action, so the loss is
 * −A · log π(answer) = −A · Σ_t log π(token t), averaged over the batch's answers.
 */
export function reinforceLoss(
  logp: tf.Tensor2D,
  advantages: tf.Tensor1D,
  mask: tf.Tensor2D,
): tf.Scalar {
  const sequenceLogp = tf.sum(tf.mul(logp, mask), 1); // [B]
  return tf.neg(tf.mean(tf.mul(advantages, sequenceLogp))) as tf.Scalar;
}
