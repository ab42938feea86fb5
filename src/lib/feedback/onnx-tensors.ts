/**
 * Reading and making ONNX Runtime tensors for the feedback model's scoring: a row of logits,
 * a stable log-softmax at one id, token ids as int64.
 */
import { Tensor } from '@huggingface/transformers';

/** Row `t` of logits [1, T, V] of the first sequence. */
export function logitsRow(logits: Tensor, t: number): Float32Array {
  const vocab = logits.dims[2]!;
  return (logits.data as Float32Array).subarray(t * vocab, (t + 1) * vocab);
}

/** log softmax(row)[id], computed stably. */
export function logSoftmaxAt(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return row[id]! - max - Math.log(sum);
}

export function int64Tensor(rows: number[][]): Tensor {
  const data = BigInt64Array.from(rows.flat(), (x) => BigInt(x));
  return new Tensor('int64', data, [rows.length, rows[0]!.length]);
}
