import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradients of a policy's trainable weights from a loss computed in chunks of rows, summed
 * (each chunk's loss weighted by its share of the whole batch by the caller), so a batch too
 * large for one forward pass trains as one optimizer step. `lossOf(i)` builds chunk i's scalar
 * loss inside the tape and may `tf.keep` statistics; the gradients come back by parameter name,
 * with the summed loss (the caller reads and disposes both).
 */
export function accumulatedGrads(
  params: Map<string, tf.Variable>,
  chunks: number,
  lossOf: (chunk: number) => tf.Scalar,
): { grads: Map<string, tf.Tensor>; loss: tf.Scalar } {
  const names = new Map([...params].map(([n, v]) => [v.name, n]));
  const total = new Map<string, tf.Tensor>();
  let loss: tf.Scalar = tf.scalar(0);
  for (let i = 0; i < chunks; i++) {
    const { value, grads } = tf.variableGrads(() => lossOf(i), [...params.values()]);
    const sum = tf.add(loss, value) as tf.Scalar; // read by the caller (async on WebGPU)
    tf.dispose([loss, value]);
    loss = sum;
    for (const [v, g] of Object.entries(grads)) {
      const name = names.get(v)!;
      const before = total.get(name);
      total.set(name, before ? tf.add(before, g) : g);
      if (before) tf.dispose([before, g]);
    }
  }
  return { grads: total, loss };
}

/** Splits `n` rows into consecutive chunks of at most `size`: [start, end) pairs. */
export function rowChunks(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}
