import * as tf from '@tensorflow/tfjs-core';
import { groupsFor, runKernel } from './program.ts';
import { withGradient } from './kernel-set.ts';

/**
 * SwiGLU's gate, silu(g) · u = g σ(g) u, as one dispatch (stock: sigmoid and two products).
 * Backward, one dispatch per input: dg = dy · u · σ(g)(1 + g(1 − σ(g))), du = dy · g σ(g).
 */

type Part = 'value' | 'dgate' | 'dup';

const formula: Record<Part, string> = {
  value: 'g * sig * u[index]',
  dgate: 'dy[index] * u[index] * sig * (1.0 + g * (1.0 - sig))',
  dup: 'dy[index] * g * sig',
};

function swigluKernel(part: Part, gate: tf.Tensor, up: tf.Tensor, dy?: tf.Tensor): tf.Tensor2D {
  const inputs: Record<string, tf.Tensor> = { gate, u: up };
  if (dy) inputs.dy = dy;
  return runKernel({
    key: `swiglu_${part}`,
    inputs,
    outputShape: gate.shape,
    workgroup: 64,
    groups: groupsFor(gate.size),
    uniforms: { size: { type: 'i32', value: gate.size } },
    body: `
      if (index < uniforms.size) {
        let g = gate[index];
        let sig = 1.0 / (1.0 + exp(-g));
        result[index] = ${formula[part]};
      }`,
  }) as tf.Tensor2D;
}

/** silu(gate) · up for gate, up [N, m]. */
export function fusedSwiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return withGradient(
    [gate, up],
    () => ({ value: swigluKernel('value', gate, up), saved: [gate, up] }),
    (dy, [g, u]) => [swigluKernel('dgate', g!, u!, dy), swigluKernel('dup', g!, u!, dy)],
  );
}

/**
 * silu(gate) · up from one product's rows [N, 2m], gate then up side by side (generation joins
 * the two projections into one product): [N, m], no gradient.
 */
export function fusedSwigluJoined(joined: tf.Tensor2D): tf.Tensor2D {
  const [rows, width] = joined.shape;
  const m = width / 2;
  return runKernel({
    key: 'swiglu_joined',
    inputs: { joined },
    outputShape: [rows, m],
    workgroup: 64,
    groups: groupsFor(rows * m),
    uniforms: { size: { type: 'i32', value: rows * m }, m: { type: 'i32', value: m } },
    body: `
      if (index < uniforms.size) {
        let at = (index / uniforms.m) * 2 * uniforms.m + index % uniforms.m;
        let g = joined[at];
        result[index] = g / (1.0 + exp(-g)) * joined[at + uniforms.m];
      }`,
  }) as tf.Tensor2D;
}
