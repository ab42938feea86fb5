import * as tf from '@tensorflow/tfjs-core';
import { matMul } from './matmul.ts';
import { fusedTargetLogprobs, fusedTargetLogprobsGrad } from '../kernels/token-logprobs.ts';

/**
 * Token log-probs through the output head without an [N, V] tensor for the backward:
 * log softmax(h W^T)[target] for hidden states h [N, d], head W [V, d] and targets [N], in
 * chunks of rows. The forward keeps only each row's log-sum-exp; the backward recomputes a
 * chunk's logits, takes dlogits = dy · (onehot(target) − softmax) and returns dh = dlogits W
 * (and dW = dlogits^T h when the head trains). With a 49,152-word vocabulary and 16 × 128
 * tokens, a full [N, V] float32 tensor is 384 MiB; one chunk of `chunkElements` is 16 MiB.
 * When all rows fit in one chunk, the logits are kept instead of recomputed (the tiny model).
 */

/** Largest chunk of logits, in elements (16 MiB of float32). */
export const chunkElements = 2 ** 22;

export interface HeadLogprobs {
  /** log p(target) per row [N]. */
  logprobs: tf.Tensor1D;
  /** Entropy of each row's distribution [N] (no gradient), when asked for: the caller disposes it. */
  entropy?: tf.Tensor1D;
}

/** Rows [start, start + size) of each chunk. */
export function chunksOf(
  rows: number,
  vocab: number,
  elements = chunkElements,
): [number, number][] {
  const size = Math.max(1, Math.floor(elements / vocab));
  const out: [number, number][] = [];
  for (let start = 0; start < rows; start += size) out.push([start, Math.min(size, rows - start)]);
  return out;
}

/** Each target's logit from logits [n, V] by flat index (row · V + target): [n]. */
function pick(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [n, v] = logits.shape;
  const flat = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), targets);
  return tf.gather(tf.reshape(logits, [-1]), flat) as tf.Tensor1D;
}

/** The parts concatenated along rows (the parts freed), or the one part itself. */
function joined<T extends tf.Tensor>(parts: T[]): T {
  if (parts.length === 1) return parts[0]!;
  const out = tf.concat(parts) as T;
  tf.dispose(parts);
  return out;
}

export function headLogprobs(
  hidden: tf.Tensor2D, // [N, d]
  head: tf.Tensor2D, // [V, d]
  targets: tf.Tensor1D, // [N] int32
  options: { trainHead: boolean; entropy?: boolean; chunkElements?: number; fused?: boolean },
): HeadLogprobs {
  const [n] = hidden.shape;
  const v = head.shape[0];
  const chunks = chunksOf(n, v, options.chunkElements);
  const single = chunks.length === 1;
  const slice = <T extends tf.Tensor>(t: T, [start, size]: [number, number]) =>
    (t.rank === 1 ? tf.slice(t, [start], [size]) : tf.slice(t, [start, 0], [size, -1])) as T;
  let entropy: tf.Tensor1D | undefined;
  // `fused`: the WebGPU kernels compute log p(target) and its gradient from the logits alone.
  const fused = (options.fused ?? false) && !options.entropy;
  const forward = (h: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const lses: tf.Tensor1D[] = [];
    const outs: tf.Tensor1D[] = [];
    const entropies: tf.Tensor1D[] = [];
    let kept: tf.Tensor2D | null = null;
    for (const chunk of chunks) {
      const [lse, out, ent, logits] = tf.tidy(() => {
        const logits = matMul(slice(h, chunk), w, false, true); // [n, V]
        if (fused) {
          const out = fusedTargetLogprobs(logits, slice(targets, chunk)); // [n]
          return [tf.zeros([0]), out, tf.zeros([0]), single ? logits : tf.zeros([0, 0])] as const;
        }
        const lse = tf.logSumExp(logits, -1); // [n]
        const out = tf.sub(pick(logits, slice(targets, chunk)), lse);
        const ent = options.entropy
          ? tf.sub(lse, tf.sum(tf.mul(tf.exp(tf.sub(logits, tf.expandDims(lse, -1))), logits), -1))
          : tf.zeros([0]);
        return [lse, out, ent, single ? logits : tf.zeros([0, 0])] as const;
      });
      lses.push(lse as tf.Tensor1D);
      outs.push(out as tf.Tensor1D);
      entropies.push(ent as tf.Tensor1D);
      if (single) kept = logits as tf.Tensor2D;
      else logits.dispose();
    }
    // Fused: no log-sum-exps are kept (an empty stand-in), the backward recomputes them.
    const lse = fused ? lses[0]! : joined(lses);
    if (fused) tf.dispose(lses.slice(1));
    const value = joined(outs);
    if (options.entropy) entropy = tf.keep(joined(entropies));
    else tf.dispose(entropies);
    // Tensors made inside the gradient's forward scope (targets, say) are freed before the
    // backward runs: everything the backward reads is saved.
    // A frozen head is read from the closure (it is a variable): saving it would copy it.
    const saved = [h, ...(options.trainHead ? [w] : []), targets, lse, ...(kept ? [kept] : [])];
    save(saved);
    return { value, saved };
  };
  const backward = (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
    const rest = [...saved];
    const h = rest.shift() as tf.Tensor2D;
    const w = options.trainHead ? (rest.shift() as tf.Tensor2D) : head;
    const [ids, lse, kept] = rest as [tf.Tensor1D, tf.Tensor1D, tf.Tensor2D?];
    // dlogits = dy · (onehot(target) − softmax), from the saved log-sum-exps.
    const stockLogitsGrad = (logits: tf.Tensor2D, chunk: [number, number]) => {
      const softmax = tf.exp(tf.sub(logits, tf.expandDims(slice(lse, chunk), -1)));
      // int32 one-hot, then cast: the WASM backend's float32 oneHot returns integer bits.
      const oneHot = tf.cast(tf.oneHot(slice(ids, chunk), v), 'float32');
      return tf.mul(tf.expandDims(slice(dy, chunk), -1), tf.sub(oneHot, softmax)) as tf.Tensor2D;
    };
    const dhs: tf.Tensor2D[] = [];
    let dw: tf.Tensor2D | null = null;
    for (const chunk of chunks) {
      const [dh, dwPart] = tf.tidy((): tf.Tensor2D[] => {
        const logits = kept ?? matMul(slice(h, chunk), w, false, true); // [n, V]
        const dLogits = fused
          ? fusedTargetLogprobsGrad(logits, slice(ids, chunk), slice(dy, chunk))
          : stockLogitsGrad(logits, chunk);
        const dh = matMul(dLogits, w); // [n, d]
        const part = options.trainHead ? [matMul(dLogits, slice(h, chunk), true, false)] : []; // [V, d]
        return [dh, ...part];
      });
      dhs.push(dh!);
      if (dwPart) {
        const sum: tf.Tensor2D = dw ? tf.add(dw, dwPart) : dwPart;
        if (dw) tf.dispose([dw, dwPart]);
        dw = sum;
      }
    }
    const dh = joined(dhs);
    return dw ? [dh, dw] : [dh];
  };
  const op = options.trainHead
    ? tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [h, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
        const { value } = forward(h, w, save);
        return {
          value,
          gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => backward(dy as tf.Tensor1D, s),
        };
      })
    : tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [h, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
        const { value } = forward(h, head, save);
        return {
          value,
          gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => backward(dy as tf.Tensor1D, s),
        };
      });
  const logprobs = (options.trainHead ? op(hidden, head) : op(hidden)) as tf.Tensor1D;
  return entropy ? { logprobs, entropy } : { logprobs };
}
