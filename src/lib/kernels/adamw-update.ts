import * as tf from '@tensorflow/tfjs-core';
import { groupsFor, reductions, runKernel } from './program.ts';

/**
 * AdamW on WebGPU in four dispatches per parameter (stock tfjs: about twenty): the gradient's
 * sum of squares (for the global norm), then the new first moment, second moment and weight,
 * each one element-wise pass reading the clip factor from a one-element tensor, so nothing is
 * read back to the CPU between steps:
 *   g' = g · clip,  m ← β1 m + (1 − β1) g',  v ← β2 v + (1 − β2) g'²,
 *   p ← p − lr · ((m / c1) / (√(v / c2) + ε) + wd · p),  c_i = 1 − β_i^step.
 */

/** Σ g² of one gradient, as a [1] tensor (one workgroup striding over it). */
export function fusedSumSquares(g: tf.Tensor): tf.Tensor1D {
  const lanes = 256;
  return runKernel({
    key: 'sum_squares',
    inputs: { g },
    outputShape: [1],
    workgroup: lanes,
    groups: 1,
    uniforms: { size: { type: 'i32', value: g.size } },
    decls: reductions(lanes),
    body: `
      var s = 0.0;
      for (var i = lane(); i < uniforms.size; i += ${lanes}) { let x = g[i]; s += x * x; }
      let total = reduceSum(s);
      if (lane() == 0) { result[0] = total; }`,
  }) as tf.Tensor1D;
}

export interface AdamWStep {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (0 for vectors). */
  weightDecay: number;
  lr: number;
  /** 1 − β1^step and 1 − β2^step. */
  c1: number;
  c2: number;
}

function elementwise(
  key: string,
  inputs: Record<string, tf.Tensor>,
  step: AdamWStep,
  value: string,
) {
  const like = Object.values(inputs)[0]!;
  const f = (v: number) => ({ type: 'f32' as const, value: v });
  return runKernel({
    key,
    inputs,
    outputShape: like.shape,
    workgroup: 64,
    groups: groupsFor(like.size),
    uniforms: {
      size: { type: 'i32', value: like.size },
      beta1: f(step.beta1),
      beta2: f(step.beta2),
      eps: f(step.epsilon),
      wd: f(step.weightDecay),
      lr: f(step.lr),
      c1: f(step.c1),
      c2: f(step.c2),
    },
    body: `if (index < uniforms.size) { result[index] = ${value}; }`,
  });
}

/** Updates m, v and p (variables) in place of tfjs's ops, from gradient g and clip [1]. */
export function fusedAdamWUpdate(
  p: tf.Variable,
  m: tf.Variable,
  v: tf.Variable,
  g: tf.Tensor,
  clip: tf.Tensor,
  step: AdamWStep,
): void {
  const nextM = elementwise(
    'adamw_m',
    { m, g, clip },
    step,
    'uniforms.beta1 * m[index] + (1.0 - uniforms.beta1) * g[index] * clip[0]',
  );
  const nextV = elementwise(
    'adamw_v',
    { v, g, clip },
    step,
    'uniforms.beta2 * v[index] + (1.0 - uniforms.beta2) * g[index] * g[index] * clip[0] * clip[0]',
  );
  const nextP = elementwise(
    'adamw_p',
    { p, m: nextM, v: nextV },
    step,
    'p[index] - uniforms.lr * ((m[index] / uniforms.c1) / (sqrt(v[index] / uniforms.c2) + uniforms.eps) + uniforms.wd * p[index])',
  );
  m.assign(nextM);
  v.assign(nextV);
  p.assign(nextP);
  tf.dispose([nextM, nextV, nextP]);
}
