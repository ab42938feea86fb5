import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { gae, klPerToken, tokenRewards, whiten } from '../../src/lib/ops/advantages.ts';
import {
  bradleyTerryLoss,
  clippedPolicyLoss,
  clippedValueLoss,
} from '../../src/lib/ops/ppo-losses.ts';
import { clampLabel, orderAveraged, probabilityOfA } from '../../src/lib/ops/preferences.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

/** Every entry close to the expected one, and the same shape (a shorter result fails). */
const close = (actual: number[][], expected: number[][], digits = 9) => {
  expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
  actual.forEach((row, b) =>
    row.forEach((v, t) => expect(v).toBeCloseTo(expected[b]![t]!, digits)),
  );
};

const read = async (x: tf.Tensor) => {
  const v = (await x.data())[0]!;
  return v;
};

describe('advantages and rewards (hand-computed)', () => {
  test('GAE with gamma 1, lambda 0.95', () => {
    // t=2: δ = 1 - 0.3 = 0.7; t=1: δ = -0.2 + 0.3 - 0.4 = -0.3, A = -0.3 + 0.95·0.7 = 0.365;
    // t=0: δ = 0.1 + 0.4 - 0.5 = 0, A = 0.95·0.365 = 0.34675. Returns = A + V.
    const { advantages, returns } = gae(
      [[0.1, -0.2, 1.0]],
      [[0.5, 0.4, 0.3]],
      [[1, 1, 1]],
      1,
      0.95,
    );
    close(advantages, [[0.34675, 0.365, 0.7]]);
    close(returns, [[0.84675, 0.765, 1.0]]);
  });

  test('GAE stops at the last real token (padding has no value) and discounts by gamma', () => {
    // t=1: δ = 0.5 - 0.2 = 0.3; t=0: δ = 0.2 + 0.9·0.2 - 0.1 = 0.28, A = 0.28 + 0.9·0.5·0.3 = 0.415.
    const { advantages, returns } = gae([[0.2, 0.5, 7]], [[0.1, 0.2, 9]], [[1, 1, 0]], 0.9, 0.5);
    close(advantages, [[0.415, 0.3, 0]]);
    close(returns, [[0.515, 0.5, 0]]);
  });

  test('k1 and k3 KL estimates', () => {
    const logp = [[-1, -2]];
    const logref = [[-1.5, -1]];
    close(klPerToken(logp, logref, 'k1'), [[0.5, -1]]);
    // k3 = (e^{logr} - 1) - logr, logr = logref - logp = [-0.5, 1].
    close(klPerToken(logp, logref, 'k3'), [[Math.exp(-0.5) - 1 + 0.5, Math.E - 2]]);
    expect(klPerToken(logp, logref, 'k3')[0]![0]).toBeCloseTo(0.10653066, 9);
  });

  test('per-token rewards: -coef·KL everywhere, the score on the last real token', () => {
    const { rewards, nonScore } = tokenRewards([[0.5, -1, 0.2]], [2], [[1, 1, 0]], 0.1);
    close(nonScore, [[-0.05, 0.1, 0]]);
    close(rewards, [[-0.05, 2.1, 0]]);
  });

  test('whitening uses the masked mean and unbiased variance; padding stays 0', () => {
    // Masked values 1, 2, 3: mean 2, unbiased variance 1.
    close(
      whiten(
        [
          [1, 2],
          [3, 0],
        ],
        [
          [1, 1],
          [1, 0],
        ],
      ),
      [
        [-1, 0],
        [1, 0],
      ],
      7,
    );
    close(
      whiten(
        [
          [1, 2],
          [3, 0],
        ],
        [
          [1, 1],
          [1, 0],
        ],
        false,
      ),
      [
        [1, 2],
        [3, 0],
      ],
      7,
    );
  });
});

describe('PPO and reward-model losses (hand-computed)', () => {
  test('clipped surrogate, clip fraction and approx KL', async () => {
    // ratios 1.5, 0.5, 1.1 with advantages 1, -1, 2 (clip 0.2); a 4th token is padding.
    const logp = tf.tensor2d([[Math.log(1.5), Math.log(0.5), Math.log(1.1), 5]]);
    const old = tf.tensor2d([[0, 0, 0, 0]]);
    const adv = tf.tensor2d([[1, -1, 2, 100]]);
    const mask = tf.tensor2d([[1, 1, 1, 0]]);
    const out = clippedPolicyLoss(logp, old, adv, mask, 0.2);
    // max(-1.5, -1.2) = -1.2; max(0.5, 0.8) = 0.8; max(-2.2, -2.2) = -2.2 → mean -2.6 / 3.
    expect(await read(out.loss)).toBeCloseTo(-2.6 / 3, 6);
    expect(await read(out.clipFrac)).toBeCloseTo(2 / 3, 6);
    const sq = Math.log(1.5) ** 2 + Math.log(0.5) ** 2 + Math.log(1.1) ** 2;
    expect(await read(out.approxKl)).toBeCloseTo((0.5 * sq) / 3, 6);
    tf.dispose([logp, old, adv, mask, out.loss, out.clipFrac, out.approxKl, out.ratio]);
  });

  test('clipped value loss and value clip fraction', async () => {
    const v = tf.tensor2d([[1.0, 0.0]]);
    const old = tf.tensor2d([[0.5, 0.1]]);
    const ret = tf.tensor2d([[2.0, 0.05]]);
    const mask = tf.tensor2d([[1, 1]]);
    const out = clippedValueLoss(v, old, ret, mask, 0.2);
    // Token 0: clipped value 0.7 → max(1, 1.69) = 1.69; token 1: 0.0025 both → 0.5·(1.6925 / 2).
    expect(await read(out.loss)).toBeCloseTo(0.423125, 6);
    expect(await read(out.clipFrac)).toBeCloseTo(0.5, 6);
    tf.dispose([v, old, ret, mask, out.loss, out.clipFrac]);
  });

  test('Bradley-Terry with soft labels, with and without centring', async () => {
    const chosen = tf.tensor1d([1, 0]);
    const rejected = tf.tensor1d([0, 0]);
    const labels = tf.tensor1d([1, 0.5]);
    // -log σ(1) = 0.3132617; a 50/50 label at d = 0 costs ln 2.
    const expected = (0.31326168751822286 + Math.LN2) / 2;
    const plain = bradleyTerryLoss(chosen, rejected, labels);
    const centred = bradleyTerryLoss(chosen, rejected, labels, 0.01);
    expect(await read(plain)).toBeCloseTo(expected, 6);
    expect(await read(centred)).toBeCloseTo(expected + 0.01 * 0.5, 6);
    tf.dispose([chosen, rejected, labels, plain, centred]);
  });
});

describe('preference labels', () => {
  test('A/B normalisation, order-swap averaging and clamping', () => {
    expect(probabilityOfA(Math.log(0.3), Math.log(0.1))).toBeCloseTo(0.75, 12);
    expect(probabilityOfA(-1000, -1001)).toBeCloseTo(1 / (1 + Math.exp(-1)), 12); // stable
    // First order: P(A) = 0.75; swapped: the first response is (B), P(A) = 0.35 → 0.65.
    expect(orderAveraged(0.75, 0.35)).toBeCloseTo(0.7, 12);
    expect(clampLabel(0.7, [0.4, 0.6])).toBe(0.6);
    expect(clampLabel(0.1, [0.4, 0.6])).toBe(0.4);
    expect(clampLabel(0.5, [0.4, 0.6])).toBe(0.5);
  });
});
