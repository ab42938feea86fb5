/**
 * Float64 reference computations in plain JavaScript, against which every tfjs backend is
 * checked: a matmul and a few Adam steps of a tiny MLP. No tfjs here, so the reference cannot
 * share a bug with the backends it judges.
 */
import { mulberry32 } from '../util/random.ts';

/** `count` uniform values in [-scale, scale), rounded to float32 so tfjs sees the same. */
export function uniformArray(rand: () => number, count: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** Row-major matmul in float64: a [m, k] x b [k, n] -> [m, n]. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      for (let j = 0; j < n; j++) out[i * n + j]! += aip * b[p * n + j]!;
    }
  return out;
}

/** Largest absolute difference, divided by the reference's largest magnitude. */
export function maxRelError(values: ArrayLike<number>, reference: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(values[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  if (values.length !== reference.length) return Infinity;
  return diff / Math.max(scale, 1e-12);
}

/** A regression problem for y = tanh(x W1 + b1) w2 + b2 with squared error. */
export interface MlpProblem {
  n: number; // examples
  d: number; // inputs
  h: number; // hidden units
  x: Float32Array; // [n, d]
  t: Float32Array; // [n]
  w1: Float32Array; // [d, h]
  b1: Float32Array; // [h]
  w2: Float32Array; // [h]
  b2: Float32Array; // [1]
}

export function makeMlpProblem(seed: number, n: number, d: number, h: number): MlpProblem {
  const rand = mulberry32(seed);
  return {
    n,
    d,
    h,
    x: uniformArray(rand, n * d),
    t: uniformArray(rand, n),
    w1: uniformArray(rand, d * h, 1 / Math.sqrt(d)),
    b1: uniformArray(rand, h, 0.1),
    w2: uniformArray(rand, h, 1 / Math.sqrt(h)),
    b2: uniformArray(rand, 1, 0.1),
  };
}

/** Adam's hyper-parameters, as tfjs's `tf.train.adam` takes them. */
export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const checkAdam: AdamConfig = {
  learningRate: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
};

export interface MlpParams {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

/** Loss and gradients of the MLP's mean squared error at `p`. */
export function mlpLossAndGrads(
  prob: MlpProblem,
  p: MlpParams,
): { loss: number; grads: MlpParams } {
  const { n, d, h, x, t } = prob;
  const z = matmulRef(x, p.w1, n, d, h); // [n, h]
  const a = z.map((v, i) => Math.tanh(v + p.b1[i % h]!)); // [n, h]
  const g: MlpParams = {
    w1: new Float64Array(d * h),
    b1: new Float64Array(h),
    w2: new Float64Array(h),
    b2: new Float64Array(1),
  };
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let y = p.b2[0]!;
    for (let j = 0; j < h; j++) y += a[r * h + j]! * p.w2[j]!;
    const err = y - t[r]!;
    loss += (err * err) / n;
    const dy = (2 * err) / n; // d loss / d y_r
    g.b2[0]! += dy;
    for (let j = 0; j < h; j++) {
      const ar = a[r * h + j]!;
      g.w2[j]! += ar * dy;
      const dz = dy * p.w2[j]! * (1 - ar * ar);
      g.b1[j]! += dz;
      for (let i = 0; i < d; i++) g.w1[i * h + j]! += x[r * d + i]! * dz;
    }
  }
  return { loss, grads: g };
}

/** Adam as tfjs implements it: bias-corrected moments, epsilon added after the square root. */
export function adamStep(
  params: Float64Array,
  grads: Float64Array,
  m: Float64Array,
  v: Float64Array,
  step: number,
  cfg: AdamConfig,
): void {
  const c1 = 1 - cfg.beta1 ** step;
  const c2 = 1 - cfg.beta2 ** step;
  for (let i = 0; i < params.length; i++) {
    m[i] = cfg.beta1 * m[i]! + (1 - cfg.beta1) * grads[i]!;
    v[i] = cfg.beta2 * v[i]! + (1 - cfg.beta2) * grads[i]! ** 2;
    params[i]! -= (cfg.learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + cfg.epsilon);
  }
}

export const mlpParamOrder = ['w1', 'b1', 'w2', 'b2'] as const;

/** Runs `steps` Adam steps; returns the loss before each step and the final weights. */
export function trainMlpRef(
  prob: MlpProblem,
  steps: number,
  cfg: AdamConfig = checkAdam,
): { losses: number[]; weights: number[] } {
  const p: MlpParams = {
    w1: Float64Array.from(prob.w1),
    b1: Float64Array.from(prob.b1),
    w2: Float64Array.from(prob.w2),
    b2: Float64Array.from(prob.b2),
  };
  const moments = mlpParamOrder.map((k) => ({
    m: new Float64Array(p[k].length),
    v: new Float64Array(p[k].length),
  }));
  const losses: number[] = [];
  for (let s = 1; s <= steps; s++) {
    const { loss, grads } = mlpLossAndGrads(prob, p);
    losses.push(loss);
    mlpParamOrder.forEach((k, i) => adamStep(p[k], grads[k], moments[i]!.m, moments[i]!.v, s, cfg));
  }
  return { losses, weights: mlpParamOrder.flatMap((k) => Array.from(p[k])) };
}
