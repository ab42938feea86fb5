import * as tf from '@tensorflow/tfjs-core';
import { reductions, runKernel } from './program.ts';

/**
 * Log-softmax at the targets over a vocabulary, one workgroup per row: logits [n, V] and
 * targets [n] → log p(target) [n] in one dispatch (stock: max, subtract, exp, sum, log, add,
 * a gather by flat index and a subtraction), and its backward, dlogits = dy · (onehot − p),
 * in one more (stock: exp, subtract, one-hot, cast, subtract, product). Rows are a chunk of
 * positions (ops/head-logprobs.ts): no [B·T, V] tensor is ever made.
 */

const lanes = 256;

/** WGSL: the row's maximum `top` and log-sum-exp `lse`, every lane of the row holding them. */
const rowStats = `
  let r0 = row();
  let r = min(r0, uniforms.rows - 1);
  let base = r * uniforms.vocab;
  var mx = -3.4e38;
  for (var c = lane(); c < uniforms.vocab; c += ${lanes}) { mx = max(mx, logits[base + c]); }
  let top = reduceMax(mx);
  var z = 0.0;
  for (var c = lane(); c < uniforms.vocab; c += ${lanes}) { z += exp(logits[base + c] - top); }
  let lse = top + log(reduceSum(z));`;

function rowKernel(key: string, inputs: Record<string, tf.Tensor>, shape: number[], body: string) {
  const [rows, vocab] = (inputs.logits as tf.Tensor2D).shape;
  return runKernel({
    key,
    inputs,
    outputShape: shape,
    workgroup: lanes,
    groups: rows,
    uniforms: { rows: { type: 'i32', value: rows }, vocab: { type: 'i32', value: vocab } },
    decls: reductions(lanes),
    body: `${rowStats}
      if (r0 < uniforms.rows) { ${body} }`,
  });
}

/** log p(target) per row [n] from logits [n, V] and int32 targets [n]. */
export function fusedTargetLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return rowKernel(
    'target_logprobs',
    { logits, targets },
    [logits.shape[0]],
    'if (lane() == 0) { result[r] = logits[base + targets[r]] - lse; }',
  ) as tf.Tensor1D;
}

/** dlogits [n, V] = dy · (onehot(target) − softmax(logits)), given dy [n]. */
export function fusedTargetLogprobsGrad(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  dy: tf.Tensor1D,
): tf.Tensor2D {
  return rowKernel(
    'target_logprobs_grad',
    { logits, targets, dy },
    logits.shape,
    `for (var c = lane(); c < uniforms.vocab; c += ${lanes}) {
       let hit = select(0.0, 1.0, c == targets[r]);
       result[base + c] = dy[r] * (hit - exp(logits[base + c] - lse));
     }`,
  ) as tf.Tensor2D;
}
