import { describe, expect, test } from 'vitest';
import {
  adamStep,
  makeMlpProblem,
  matmulRef,
  maxRelError,
  mlpLossAndGrads,
  mlpParamOrder,
  trainMlpRef,
  type MlpParams,
} from '../../src/lib/backend/reference.ts';
import { mulberry32 } from '../../src/lib/util/random.ts';

describe('mulberry32', () => {
  test('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });
});

describe('matmulRef', () => {
  test('multiplies a 2x3 by a 3x2 matrix', () => {
    // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    expect(Array.from(matmulRef([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], 2, 3, 2))).toEqual([
      58, 64, 139, 154,
    ]);
  });
});

describe('maxRelError', () => {
  test('divides the largest difference by the largest reference magnitude', () => {
    expect(maxRelError([1, 2.5, -4], [1, 2, -5])).toBe(1 / 5);
    expect(maxRelError([1, 2], [1, 2, 3])).toBe(Infinity);
  });
});

describe('mlpLossAndGrads', () => {
  const prob = makeMlpProblem(3, 5, 4, 6);
  const params = (): MlpParams => ({
    w1: Float64Array.from(prob.w1),
    b1: Float64Array.from(prob.b1),
    w2: Float64Array.from(prob.w2),
    b2: Float64Array.from(prob.b2),
  });

  test('gradients match central finite differences for every parameter', () => {
    const { grads } = mlpLossAndGrads(prob, params());
    const h = 1e-6;
    for (const key of mlpParamOrder) {
      for (let i = 0; i < prob[key].length; i++) {
        const plus = params();
        const minus = params();
        plus[key][i]! += h;
        minus[key][i]! -= h;
        const numeric =
          (mlpLossAndGrads(prob, plus).loss - mlpLossAndGrads(prob, minus).loss) / (2 * h);
        expect(grads[key][i]).toBeCloseTo(numeric, 7);
      }
    }
  });

  test('the loss is the mean squared error of tanh(x W1 + b1) w2 + b2', () => {
    const tiny = { ...prob, n: 1, d: 1, h: 1 };
    const p: MlpParams = {
      w1: Float64Array.of(0.5),
      b1: Float64Array.of(0.25),
      w2: Float64Array.of(2),
      b2: Float64Array.of(-1),
    };
    const x = Float32Array.of(1);
    const t = Float32Array.of(0.5);
    const y = Math.tanh(0.75) * 2 - 1;
    expect(mlpLossAndGrads({ ...tiny, x, t }, p).loss).toBeCloseTo((y - 0.5) ** 2, 15);
  });
});

describe('adamStep', () => {
  test('first step moves each weight by about lr against the gradient sign', () => {
    // Step 1: m = 0.1 g, v = 0.001 g²; bias-corrected m̂ = g, v̂ = g², so Δ = -lr g / (|g| + ε).
    const w = Float64Array.of(1, 1);
    const cfg = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    adamStep(w, Float64Array.of(2, -0.5), new Float64Array(2), new Float64Array(2), 1, cfg);
    expect(w[0]).toBeCloseTo(1 - (0.1 * 2) / (2 + 1e-8), 12);
    expect(w[1]).toBeCloseTo(1 + (0.1 * 0.5) / (0.5 + 1e-8), 12);
  });

  test('second step uses bias-corrected moments', () => {
    const cfg = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const w = Float64Array.of(0);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    adamStep(w, Float64Array.of(1), m, v, 1, cfg);
    adamStep(w, Float64Array.of(3), m, v, 2, cfg);
    // m2 = 0.9*0.1 + 0.1*3 = 0.39; v2 = 0.999*0.001 + 0.001*9 = 0.009999
    expect(m[0]).toBeCloseTo(0.39, 14);
    expect(v[0]).toBeCloseTo(0.009999, 14);
    const mHat = 0.39 / (1 - 0.81);
    const vHat = 0.009999 / (1 - 0.998001);
    const afterFirst = -0.01 / (1 + 1e-7); // m̂ = 1, v̂ = 1
    expect(w[0]).toBeCloseTo(afterFirst - (0.01 * mHat) / (Math.sqrt(vHat) + 1e-7), 14);
  });
});

describe('trainMlpRef', () => {
  test('loss falls over Adam steps and the result is reproducible', () => {
    const prob = makeMlpProblem(11, 32, 8, 16);
    const run = trainMlpRef(prob, 20);
    expect(run.losses).toHaveLength(20);
    expect(run.losses[19]!).toBeLessThan(run.losses[0]! * 0.9);
    expect(trainMlpRef(prob, 20)).toEqual(run);
    expect(run.weights).toHaveLength(8 * 16 + 16 + 16 + 1);
  });
});
