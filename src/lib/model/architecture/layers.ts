import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../../ops/matmul.ts';

/**
 * The building blocks of a Llama decoder, as pure functions of tensors. Shapes:
 * B batch, T new tokens, S all key positions (past + new), d hidden, H query heads,
 * kvH key/value heads, hd head size, V vocabulary.
 */

/**
 * y = x W^T for a weight stored as HF does, [out, in]; `weightT`, when given, is W^T [in, out]
 * already (generation transposes each weight once instead of at every step).
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, weightT?: tf.Tensor2D): tf.Tensor {
  const shape = x.shape;
  // The decoder keeps activations 2D [N, d]: no reshapes around the product then.
  const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, shape[shape.length - 1]!])) as tf.Tensor2D;
  const y = weightT ? matMul(flat, weightT) : matMul(flat, weight, false, true); // [N, out]
  return x.rank === 2 ? y : tf.reshape(y, [...shape.slice(0, -1), weight.shape[0]]);
}

/**
 * x [N, in] · w + residual [N, out] as one fused product (WebGPU), w [in, out], or [out, in]
 * when `transposeB`. The residual enters as tfjs's fused bias, so its gradient is dy itself.
 */
export function productPlus(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  residual: tf.Tensor2D,
  transposeB: boolean,
): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, transposeB, bias: residual }) as tf.Tensor2D;
}

/** RMSNorm: x / sqrt(mean(x²) + eps) * weight, over the last axis. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  const meanSquare = tf.mean(tf.square(x), -1, true); // [..., 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
}

/** SwiGLU's gate, silu(gate) · up, for gate and up [N, m]. */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}

/**
 * Rotary tables: cos and sin of position * freq[i] (`ropeFrequencies`: theta^(-2i/hd), scaled),
 * duplicated to the full head size as HF's `rotate_half` convention expects. Both [maxPositions, hd].
 */
export function ropeTables(maxPositions: number, freqs: Float64Array) {
  const half = freqs.length;
  const headDim = 2 * half;
  const cos = new Float32Array(maxPositions * headDim);
  const sin = new Float32Array(maxPositions * headDim);
  for (let p = 0; p < maxPositions; p++)
    for (let i = 0; i < half; i++) {
      const angle = p * freqs[i]!;
      for (const j of [i, i + half]) {
        cos[p * headDim + j] = Math.cos(angle);
        sin[p * headDim + j] = Math.sin(angle);
      }
    }
  return {
    cos: tf.tensor2d(cos, [maxPositions, headDim]),
    sin: tf.tensor2d(sin, [maxPositions, headDim]),
  };
}

/** concat(-x2, x1) for x = concat(x1, x2) on the last axis. */
function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  return tf.concat([tf.neg(x2!), x1!], 3) as tf.Tensor4D;
}

/** The rotary angles at `positions` [B, T]: cos and sin [B, 1, T, hd], shared by every layer. */
export function ropeAt(
  tables: { cos: tf.Tensor2D; sin: tf.Tensor2D },
  positions: tf.Tensor2D,
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  return {
    cos: tf.expandDims(tf.gather(tables.cos, positions), 1) as tf.Tensor4D,
    sin: tf.expandDims(tf.gather(tables.sin, positions), 1) as tf.Tensor4D,
  };
}

/**
 * Applies rotary position embeddings to x [B, heads, T, hd] with the angles of `ropeAt`.
 * Each row has its own positions, so left-padded batches get the right angles.
 */
export function applyRope(
  x: tf.Tensor4D,
  angles: { cos: tf.Tensor4D; sin: tf.Tensor4D },
): tf.Tensor4D {
  return tf.add(tf.mul(x, angles.cos), tf.mul(rotateHalf(x), angles.sin)) as tf.Tensor4D;
}

/** [B·T, heads · hd] (rows batch-major) -> [B, heads, T, hd] */
export function splitHeads(
  x: tf.Tensor2D,
  batch: number,
  heads: number,
  headDim: number,
): tf.Tensor4D {
  const t = x.shape[0] / batch;
  return tf.transpose(tf.reshape(x, [batch, t, heads, headDim]), [0, 2, 1, 3]);
}

/** [B, heads, T, hd] -> [B·T, heads · hd] */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, t, hd] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b * t, h * hd]);
}

/**
 * Additive attention bias [B, 1, T, S]: 0 where query t (absolute position past + t) may see
 * key s (causal, and the key is not padding), a large negative number elsewhere.
 */
export function attentionBias(keyMask: tf.Tensor2D, past: number, newTokens: number): tf.Tensor4D {
  const s = keyMask.shape[1];
  const query = tf.reshape(tf.range(past, past + newTokens, 1, 'int32'), [newTokens, 1]); // [T, 1]
  const key = tf.reshape(tf.range(0, s, 1, 'int32'), [1, s]); // [1, S]
  const causal = tf.cast(tf.lessEqual(key, query), 'float32'); // [T, S], 1 where visible
  // Arithmetic rather than logicalAnd and where: on WASM those two cost 40 ms per training
  // step of the tiny model at batch 16 × 128 (measured), this a few.
  const visible = tf.mul(tf.expandDims(causal, 0), tf.expandDims(keyMask, 1)); // [B, T, S]
  return tf.expandDims(tf.mul(tf.sub(1, visible), -1e9), 1) as tf.Tensor4D;
}

/**
 * softmax(q k^T / sqrt(hd) + bias) v with grouped-query attention: q [B, H, T, hd]; k and v
 * [B, kvH, S, hd], each shared by H / kvH consecutive query heads (HF's repeat_kv order).
 * The query heads of a group are stacked into one [groups·T, hd] matrix per key/value head,
 * so the products are B·kvH matrices instead of B·H, and the keys are never copied per head.
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  bias: tf.Tensor4D,
): tf.Tensor4D {
  const [b, h, t, hd] = q.shape;
  const [, kvh, s] = k.shape;
  const stacked = tf.reshape(q, [b, kvh, (h / kvh) * t, hd]); // [B, kvH, groups·T, hd]
  const scale = 1 / Math.sqrt(hd);
  const scores = tf.reshape(matMul(stacked, k, false, true), [b, h, t, s]); // [B, H, T, S]
  const weights = tf.softmax(tf.add(tf.mul(scores, scale), bias)); // [B, H, T, S]
  const out = matMul(tf.reshape(weights, [b, kvh, (h / kvh) * t, s]), v); // [B, kvH, groups·T, hd]
  return tf.reshape(out, [b, h, t, hd]);
}

/**
 * Embedding lookup whose gradient is a one-hot matmul instead of tfjs's gather gradient,
 * which needs UnsortedSegmentSum, a kernel the WASM backend lacks.
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor3D {
  const [b, t] = ids.shape;
  const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D; // [N]
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [tableIn, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([flatIds]);
    return {
      value: tf.gather(tableIn as tf.Tensor2D, flatIds), // [N, d]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // int32 one-hot, then cast: the WASM backend's float32 oneHot returns integer bits.
        const oneHot = tf.cast(tf.oneHot(saved[0] as tf.Tensor1D, table.shape[0]), 'float32'); // [N, V]
        return [matMul(oneHot as tf.Tensor2D, dy as tf.Tensor2D, true, false)]; // [V, d]
      },
    };
  });
  return tf.reshape(lookup(table), [b, t, table.shape[1]]);
}

/**
 * Inputs for a left-padded batch [B, T] given its mask: positions count real tokens only,
 * so a row's first real token is at position 0 however much padding precedes it.
 */
export function positionsFromMask(mask: number[][]): number[][] {
  return mask.map((row) => {
    let p = -1;
    return row.map((m) => (m ? ++p : 0));
  });
}

/** The forward inputs of a padded batch given as arrays (ids and 0/1 mask, both [B, T]). */
export function batchInputs(ids: number[][], mask: number[][]) {
  return {
    ids: tf.tensor2d(ids, undefined, 'int32'),
    keyMask: tf.tensor2d(mask),
    positions: tf.tensor2d(positionsFromMask(mask), undefined, 'int32'),
  };
}
