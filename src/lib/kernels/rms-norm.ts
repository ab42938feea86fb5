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

/** Rows and columns of x [N, d], and eps. */
const rowUniforms = (x: tf.Tensor2D, eps: number) => ({
  rows: { type: 'i32' as const, value: x.shape[0] },
  cols: { type: 'i32' as const, value: x.shape[1] },
  eps: { type: 'f32' as const, value: eps },
});

/** Each row's r = rsqrt(mean(x²) + eps), x [N, d] → [N]; `scaleBy` = w and writes y instead. */
function normRows(x: tf.Tensor2D, eps: number, w?: tf.Tensor1D): tf.Tensor {
  const [n, d] = x.shape;
  return runKernel({
    key: w ? 'rmsnorm' : 'rmsnorm_rstd',
    inputs: w ? { x, w } : { x },
    outputShape: w ? [n, d] : [n],
    workgroup: lanes,
    groups: n,
    uniforms: rowUniforms(x, eps),
    decls: reductions(lanes),
    body: `
      let r0 = row();
      let r = min(r0, uniforms.rows - 1);
      let base = r * uniforms.cols;
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
  });
}

/** dx of RMSNorm given dy, x [N, d] and w [d]. */
function normInputGrad(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor {
  const [n, d] = x.shape;
  return runKernel({
    key: 'rmsnorm_dx',
    inputs: { dy, x, w },
    outputShape: [n, d],
    workgroup: lanes,
    groups: n,
    uniforms: rowUniforms(x, eps),
    decls: reductions(lanes),
    body: `
      let r0 = row();
      let r = min(r0, uniforms.rows - 1);
      let base = r * uniforms.cols;
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
  });
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
