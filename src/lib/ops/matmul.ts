import * as tf from '@tensorflow/tfjs-core';

/**
 * Matrix products that stay on the WASM backend's fast paths.
 *
 * tfjs's WASM backend is much slower when a product carries a transpose flag: measured in
 * Node on 2 cores, [4096,128] x [128,384] takes 11 ms plain and 116 ms with transposeB. So on
 * WASM we transpose explicitly (a cheap copy) and call the product without flags, and the
 * gradients do the same. Other backends use tf.matMul with its flags as is.
 */

const onWasm = () => tf.getBackend() === 'wasm';

const plainMatMul = <T extends tf.Tensor>(a: T, b: T) => tf.matMul(a, b) as T;

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: x.rank }, (_, i) => i);
  axes.push(axes.splice(x.rank - 2, 1)[0]!);
  return tf.transpose(x, axes);
}

/** a [..., M, K] x b [..., K, N] with no transpose flags, in the forward and the backward pass. */
const flagFreeProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [
        tf.matMul(dy, swapLast(sb)), // [..., M, K]
        tf.matMul(swapLast(sa), dy), // [..., K, N]
      ];
    },
  };
}) as <T extends tf.Tensor>(a: T, b: T) => T;

/** Below this many rows per product, batched products are not split (see matMul). */
const minRowsToSplit = 16;

/**
 * tf.matMul(a, b, transposeA, transposeB), kept off WASM's slow kernels: no transpose flags,
 * and batched products split into 2D ones (a [64,256,32] x [64,32,256] batch takes 117 ms in
 * WASM's batched kernel; as 2D products it is a fraction of that, plus about 2 ms per slice).
 */
export function matMul<T extends tf.Tensor>(a: T, b: T, transposeA = false, transposeB = false): T {
  if (!onWasm()) return tf.matMul(a, b, transposeA, transposeB) as T;
  // Without a gradient being recorded (generation, scoring), the custom-gradient wrapper is
  // pure cost: a third of a generation step's time at batch 1 (measured in Node).
  const plainProduct = tf.engine().isTapeOn() ? flagFreeProduct : plainMatMul;
  // a b^T with b the larger (a weight [out, in] and a few rows of activations): (b a^T)^T
  // transposes the activations instead of the weight. Measured in Node, 1 thread: a
  // [64, 576] × [49152, 576]^T output head takes 179 ms this way, 1.5 s with the flag and
  // 500 ms of transposing the head first.
  if (transposeB && !transposeA && a.rank === 2 && b.rank === 2 && b.size > a.size)
    return swapLast(plainProduct(b, swapLast(a))) as T;
  const lhs = transposeA ? swapLast(a) : a;
  const rhs = transposeB ? swapLast(b) : b;
  if (lhs.rank === 2) return plainProduct(lhs, rhs) as T;
  const lead = lhs.shape.slice(0, -2);
  const [m, k] = lhs.shape.slice(-2) as [number, number];
  const n = rhs.shape[rhs.rank - 1]!;
  // A few rows per product (generation's one new token per row): the batched kernel wins, as
  // splitting costs more than the products (measured in Chromium: generating 256 tokens for
  // 16 prompts with the KV cache went from 341 to 1670 tokens/s).
  if (m < minRowsToSplit) return plainProduct(lhs, rhs) as T;
  const count = lead.reduce((x, y) => x * y, 1);
  // One product: as a 2D one (tfjs's gradient of a one-way split loses its output: "Pass at
  // least one tensor to concat").
  if (count === 1)
    return tf.reshape(plainProduct(tf.reshape(lhs, [m, k]), tf.reshape(rhs, [k, n])), [
      ...lead,
      m,
      n,
    ]) as T;
  const left = tf.split(tf.reshape(lhs, [count * m, k]), count, 0); // count x [m, k]
  const right = tf.split(tf.reshape(rhs, [count * k, n]), count, 0); // count x [k, n]
  const products = left.map((l, i) => plainProduct(l, right[i]!)); // count x [m, n]
  return tf.reshape(tf.concat(products, 0), [...lead, m, n]) as T;
}

/**
 * x [N, in] · w^T for a frozen weight w [out, in] (a base model's, under LoRA adapters): the
 * gradient flows to x only (dx = dy w), so the backward never computes the weight's gradient
 * nor keeps a transposed copy of it. `w` must outlive the backward pass (a variable does).
 */
export function frozenProduct(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return matMul(x, w, false, true);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor2D];
    return {
      value: matMul(input, w, false, true), // [N, out]
      gradFunc: (dy: tf.Tensor) => [matMul(dy as tf.Tensor2D, w)], // [N, in]
    };
  });
  return op(x) as tf.Tensor2D;
}
