import * as tf from '@tensorflow/tfjs-core';

/** log softmax(logits)[target] for each position: logits [B, T, V], targets [B, T] -> [B, T]. */
export function tokenLogprobs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const logp = tf.logSoftmax(logits); // [B, T, V]
  // int32 one-hot, then cast: the WASM backend's float32 oneHot returns integer bits.
  const oneHot = tf.cast(tf.oneHot(targets, logits.shape[2]), 'float32'); // [B, T, V]
  return tf.sum(tf.mul(logp, oneHot), -1) as tf.Tensor2D;
}

/** Sum of values [B, T] where mask is 1, divided by the number of ones (0 when none). */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const total = tf.sum(tf.mul(values, mask));
  return tf.div(total, tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Mean next-token cross-entropy over positions where `mask` [B, T] is 1. */
export function maskedCrossEntropy(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  mask: tf.Tensor2D,
): tf.Scalar {
  return tf.neg(maskedMean(tokenLogprobs(logits, targets), mask));
}
