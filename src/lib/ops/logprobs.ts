import * as tf from '@tensorflow/tfjs-core';

/** Sum of values [B, T] where mask is 1, divided by the number of ones (0 when none). */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const total = tf.sum(tf.mul(values, mask));
  return tf.div(total, tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
