import * as tf from '@tensorflow/tfjs-core';
import { reductions, runKernel } from './program.ts';
import { withGradient } from './kernel-set.ts';

/**
 * RMSNorm of rows, y = x · rsqrt(mean(x²) + eps) · w, as one dispatch (stock tfjs: square,
 * mean, add, rsqrt and two products, six). The backward takes one more for dx and, when the
 * weight trains, two for dw (each row's rsqrt, then a column sum):
 *   r = rsqrt(mean(x²) + eps), g = dy ∘ w,
 *   dx = r·g − x · r³ · (g · x) / d,   dw = Σ_rows dy ∘ x · r.
 */

const lanes = 64;

/**
 * A kernel over the rows of x [N, d] (inputs.x), one workgroup per row: `body` runs with `r`
 * (the row, clamped), `r0` (the workgroup's row; r0 ≥ N: an idle workgroup) and `base` (where
 * row r starts), and the uniforms rows, cols and eps.
 */
function rowKernel(
  key: string,
  inputs: Record<string, tf.Tensor>,
  outputShape: number[],
  eps: number,
  body: string,
): tf.Tensor {
  const [rows, cols] = (inputs.x as tf.Tensor2D).shape;
  return runKernel({
    key,
    inputs,
    outputShape,
    workgroup: lanes,
    groups: rows,
    uniforms: {
      rows: { type: 'i32', value: rows },
      cols: { type: 'i32', value: cols },
      eps: { type: 'f32', value: eps },
    },
    decls: reductions(lanes),
    body: `
      let r0 = row();
      let r = min(r0, uniforms.rows - 1);
      let base = r * uniforms.cols;
      ${body}`,
  });
}

/** Each row's r = rsqrt(mean(x²) + eps), x [N, d] → [N]; `scaleBy` = w and writes y instead. */
function normRows(x: tf.Tensor2D, eps: number, w?: tf.Tensor1D): tf.Tensor {
  const [n, d] = x.shape;
  return rowKernel(
    w ? 'rmsnorm' : 'rmsnorm_rstd',
    w ? { x, w } : { x },
    w ? [n, d] : [n],
    eps,
    `
      var s = 0.0;
      for (var c = lane(); c < uniforms.cols; c += ${lanes}) { let v = x[base + c]; s += v * v; }
      let rstd = inverseSqrt(reduceSum(s) / f32(uniforms.cols) + uniforms.eps);
      if (r0 < uniforms.rows) {
        ${
          w
            ? `for (var c = lane(); c < uniforms.cols; c += ${lanes}) { result[base + c] = x[base + c] * rstd * w[c]; }`
            : `if (lane() == 0) { result[r] = rstd; }`
        }
      }`,
  );
}

/** dx of RMSNorm given dy, x [N, d] and w [d]. */
function normInputGrad(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor {
  const [n, d] = x.shape;
  return rowKernel(
    'rmsnorm_dx',
    { dy, x, w },
    [n, d],
    eps,
    `
      var s = 0.0;
      var gx = 0.0;
      for (var c = lane(); c < uniforms.cols; c += ${lanes}) {
        let v = x[base + c];
        s += v * v;
        gx += dy[base + c] * w[c] * v;
      }
      let rstd = inverseSqrt(reduceSum(s) / f32(uniforms.cols) + uniforms.eps);
      let dot = reduceSum(gx);
      let k = rstd * rstd * rstd * dot / f32(uniforms.cols);
      if (r0 < uniforms.rows) {
        for (var c = lane(); c < uniforms.cols; c += ${lanes}) {
          result[base + c] = rstd * dy[base + c] * w[c] - x[base + c] * k;
        }
      }`,
  );
}

/** dw of RMSNorm: Σ over rows of dy ∘ x · r, one invocation per column. */
function normWeightGrad(dy: tf.Tensor2D, x: tf.Tensor2D, rstd: tf.Tensor): tf.Tensor {
  const [n, d] = x.shape;
  return runKernel({
    key: 'rmsnorm_dw',
    inputs: { dy, x, rstd },
    outputShape: [d],
    workgroup: lanes,
    groups: Math.ceil(d / lanes),
    uniforms: { rows: { type: 'i32', value: n }, cols: { type: 'i32', value: d } },
    body: `
      if (index < uniforms.cols) {
        var s = 0.0;
        for (var r = 0; r < uniforms.rows; r++) {
          s += dy[r * uniforms.cols + index] * x[r * uniforms.cols + index] * rstd[r];
        }
        result[index] = s;
      }`,
  });
}

/** Fused RMSNorm of x [N, d] by w [d]; a frozen w (a base model's, under LoRA) gets no gradient. */
export function fusedRmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  const trainsWeight = !(w instanceof tf.Variable) || w.trainable;
  const inputs = trainsWeight ? [x, w] : [x];
  return withGradient(
    inputs,
    () => ({ value: normRows(x, eps, w) as tf.Tensor2D, saved: [x, w] }),
    (dy, [sx, sw]) => {
      const dx = normInputGrad(dy, sx as tf.Tensor2D, sw as tf.Tensor1D, eps);
      if (!trainsWeight) return [dx];
      const rstd = normRows(sx as tf.Tensor2D, eps);
      const dw = normWeightGrad(dy, sx as tf.Tensor2D, rstd);
      rstd.dispose();
      return [dx, dw];
    },
  );
}
