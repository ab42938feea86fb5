import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { ScalarHeadModel } from '../../src/lib/model/adapters/scalar-head.ts';
import { dpoLoss } from '../../src/lib/ops/dpo-loss.ts';
import {
  groupAdvantages,
  leaveOneOutAdvantages,
  normaliseAdvantages,
  sequenceKl,
} from '../../src/lib/ops/group-advantages.ts';
import { grpoLoss, reinforceLoss } from '../../src/lib/ops/group-losses.ts';
import { defaultDpoConfig } from '../../src/lib/training/dpo-config.ts';
import { trainDpo, type DpoPair } from '../../src/lib/training/dpo.ts';
import { GroupTrainer } from '../../src/lib/training/group-rl.ts';
import {
  defaultGrpoConfig,
  defaultRlooConfig,
  type GroupMethod,
} from '../../src/lib/training/online-config.ts';
import { expectAllChanged, snapshot, testConfig } from './model-helpers.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

// Float64 references, written from the papers' formulas (not from the code under test).
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.log1p(Math.exp(x));

/** DPO (Rafailov et al. 2023, eq. 7) with a soft target p: mean of −p log σ(h) − (1−p) log σ(−h). */
function dpoReference(
  pc: number[],
  pr: number[],
  rc: number[],
  rr: number[],
  p: number[],
  beta: number,
) {
  const h = pc.map((_, i) => beta * (pc[i]! - rc[i]! - (pr[i]! - rr[i]!)));
  return (
    h.reduce(
      (s, hi, i) => s - p[i]! * Math.log(sigmoid(hi)) - (1 - p[i]!) * Math.log(sigmoid(-hi)),
      0,
    ) / h.length
  );
}

/** GRPO (Shao et al. 2024, eq. 3) per token, averaged over all response tokens. */
function grpoReference(
  logp: number[][],
  old: number[][],
  ref: number[][],
  adv: number[],
  mask: number[][],
  eps: number,
  beta: number,
) {
  let sum = 0;
  let n = 0;
  logp.forEach((row, b) =>
    row.forEach((lp, t) => {
      if (!mask[b]![t]) return;
      const ratio = Math.exp(lp - old[b]![t]!);
      const a = adv[b]!;
      const surrogate = Math.min(ratio * a, Math.min(Math.max(ratio, 1 - eps), 1 + eps) * a);
      const d = ref[b]![t]! - lp;
      sum += -surrogate + beta * (Math.exp(d) - d - 1);
      n++;
    }),
  );
  return sum / n;
}

/** Central finite differences of a float64 function of a matrix. */
function numericGrad(f: (x: number[][]) => number, x: number[][], h = 1e-6): number[][] {
  return x.map((row, b) =>
    row.map((_, t) => {
      const up = x.map((r) => [...r]);
      const down = x.map((r) => [...r]);
      up[b]![t]! += h;
      down[b]![t]! -= h;
      return (f(up) - f(down)) / (2 * h);
    }),
  );
}

describe('advantages without a value model', () => {
  test('GRPO: (r − group mean) / (group std + 1e-4), std with Bessel’s correction', () => {
    // Groups [1, 3] and [2, 2, …]: mean 2, std √2; a group of equal scores gives 0.
    const a = groupAdvantages([1, 3, 5, 5], 2, 'group');
    expect(a[0]).toBeCloseTo(-1 / (Math.SQRT2 + 1e-4), 12);
    expect(a[1]).toBeCloseTo(1 / (Math.SQRT2 + 1e-4), 12);
    expect(a.slice(2)).toEqual([0, 0]);
    expect(groupAdvantages([1, 3, 5, 5], 2, 'none')).toEqual([-1, 1, 0, 0]);
    // Batch std of [1, 3, 5, 5]: mean 3.5, squares 6.25+0.25+2.25+2.25 = 11, /3.
    const batch = groupAdvantages([1, 3, 5, 5], 2, 'batch');
    expect(batch[0]).toBeCloseTo(-1 / (Math.sqrt(11 / 3) + 1e-4), 12);
    expect(() => groupAdvantages([1, 2, 3], 2, 'group')).toThrow('do not split into groups of 2');
  });

  test('RLOO: each reward minus the mean of the other k − 1', () => {
    expect(leaveOneOutAdvantages([1, 2, 6, 0, 4, 2], 3)).toEqual([
      1 - 4,
      2 - 3.5,
      6 - 1.5,
      0 - 3,
      4 - 1,
      2 - 2,
    ]);
    expect(leaveOneOutAdvantages([1, 3], 2)).toEqual([-2, 2]);
    expect(() => leaveOneOutAdvantages([1], 1)).toThrow('at least 2 answers');
    const n = normaliseAdvantages([-2, 2]);
    expect(n[0]).toBeCloseTo(-2 / (Math.sqrt(8) + 1e-4), 12);
  });

  test('the sequence KL sums log π − log π_ref over the answer’s tokens only', () => {
    const kl = sequenceKl(
      [
        [-1, -2, -3],
        [-0.5, -0.5, -9],
      ],
      [
        [-1.5, -2, -2],
        [-1, -1, -1],
      ],
      [
        [0, 1, 1],
        [1, 1, 0],
      ],
    );
    expect(kl[0]).toBeCloseTo(0 + -1, 12);
    expect(kl[1]).toBeCloseTo(0.5 + 0.5, 12);
  });
});

describe('losses against float64 references', () => {
  test('DPO: loss and its gradient (β(σ(h) − p)/B per chosen log-prob)', async () => {
    const pc = [-3.2, -5.1, -2.0];
    const pr = [-4.0, -4.9, -2.5];
    const rc = [-3.5, -5.0, -2.2];
    const rr = [-3.9, -5.3, -2.1];
    const p = [0.9, 0.6, 1];
    const beta = 0.7;
    const loss = (x: tf.Tensor1D) =>
      dpoLoss(x, tf.tensor1d(pr), tf.tensor1d(rc), tf.tensor1d(rr), tf.tensor1d(p), beta).loss;
    const value = tf.tidy(() => loss(tf.tensor1d(pc)));
    expect((await value.data())[0]).toBeCloseTo(dpoReference(pc, pr, rc, rr, p, beta), 5);
    const grad = tf.grad((x) => loss(x as tf.Tensor1D))(tf.tensor1d(pc));
    const want = pc.map((_, i) => {
      const h = beta * (pc[i]! - rc[i]! - (pr[i]! - rr[i]!));
      return (beta * (sigmoid(h) - p[i]!)) / pc.length;
    });
    Array.from(await grad.data()).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    // With a hard label the loss is −log σ(h) (TRL's sigmoid loss).
    const hard = tf.tidy(
      () =>
        dpoLoss(
          tf.tensor1d([-1]),
          tf.tensor1d([-2]),
          tf.tensor1d([-1]),
          tf.tensor1d([-1]),
          tf.tensor1d([1]),
          0.5,
        ).loss,
    );
    expect((await hard.data())[0]).toBeCloseTo(softplus(-0.5), 6);
    tf.dispose([value, grad, hard]);
  });

  test('GRPO: clipped surrogate plus β·k3 over every answer token, and its gradient', async () => {
    const logp = [
      [-1.2, -0.4, -2.0],
      [-0.3, -1.9, -0.7],
    ];
    const old = [
      [-1.0, -0.9, -2.1],
      [-0.3, -1.2, -0.7],
    ]; // ratios above and below the clip
    const ref = [
      [-1.1, -0.5, -1.8],
      [-0.6, -1.5, -0.9],
    ];
    const adv = [1.5, -0.8];
    const mask = [
      [0, 1, 1],
      [1, 1, 0],
    ];
    const eps = 0.2;
    const beta = 0.3;
    const lossOf = (x: tf.Tensor2D) =>
      grpoLoss(
        x,
        tf.tensor2d(old),
        tf.tensor2d(ref),
        tf.tensor1d(adv),
        tf.tensor2d(mask),
        eps,
        beta,
      );
    const out = tf.tidy(() => {
      const o = lossOf(tf.tensor2d(logp));
      return [o.loss, o.clipFrac, o.kl];
    });
    const [loss, clipFrac] = await Promise.all(out.map(async (t) => (await t.data())[0]!));
    expect(loss).toBeCloseTo(grpoReference(logp, old, ref, adv, mask, eps, beta), 5);
    // Token (0,1): ratio e^0.5 > 1.2 with A > 0, clipped; (1,1): ratio e^−0.7 < 0.8 with A < 0, clipped.
    expect(clipFrac).toBeCloseTo(2 / 4, 6);
    const grad = tf.grad((x) => lossOf(x as tf.Tensor2D).loss)(tf.tensor2d(logp));
    const want = numericGrad((x) => grpoReference(x, old, ref, adv, mask, eps, beta), logp);
    ((await grad.array()) as number[][]).forEach((row, b) =>
      row.forEach((g, t) => expect(g).toBeCloseTo(want[b]![t]!, 4)),
    );
    tf.dispose([...out, grad]);
  });

  test('RLOO: REINFORCE −A·Σ log π over the answer, and its gradient −A·mask/B', async () => {
    const logp = [
      [-1, -2, -3],
      [-0.5, -0.25, -4],
    ];
    const mask = [
      [0, 1, 1],
      [1, 1, 0],
    ];
    const adv = [2, -1];
    const lossOf = (x: tf.Tensor2D) => reinforceLoss(x, tf.tensor1d(adv), tf.tensor2d(mask));
    const loss = tf.tidy(() => lossOf(tf.tensor2d(logp)));
    expect((await loss.data())[0]).toBeCloseTo(-(2 * -5 + -1 * -0.75) / 2, 6);
    const grad = tf.grad((x) => lossOf(x as tf.Tensor2D))(tf.tensor2d(logp));
    expect(await grad.array()).toEqual([
      [-0, -1, -1],
      [0.5, 0.5, 0],
    ]);
    tf.dispose([loss, grad]);
  });
});

describe('the trainers on a tiny random model', () => {
  const config = testConfig({ max_position_embeddings: 48 });
  const prompts = [
    [1, 5, 6],
    [1, 7],
  ];

  test('DPO, 2 steps: every policy weight changed, the reference identical; held-out metrics under TRL’s names', async () => {
    const reference = LlamaModel.init(config, 3);
    const policy = new LlamaModel(config, reference.weights());
    const pairs: DpoPair[] = [
      { prompt: [1, 5, 6], chosen: [8, 9, 2], rejected: [10, 2], label: 0.9 },
      { prompt: [1, 7], chosen: [11, 2], rejected: [12, 13, 14, 2], label: 0.7 },
      { prompt: [1, 4], chosen: [3, 2], rejected: [15, 2], label: 1 },
    ];
    const before = { policy: await snapshot(policy.params), ref: await snapshot(reference.params) };
    const events: { type: string; values?: Record<string, number> }[] = [];
    const out = await trainDpo(
      policy,
      reference,
      pairs.slice(0, 2),
      pairs.slice(2),
      { ...defaultDpoConfig, epochs: 2, batchSize: 2, learningRate: 1e-2, warmupRatio: 0 },
      1,
      0,
      { onEvent: (e) => events.push(e), checkpoint: async () => {} },
    );
    expect(out.steps).toBe(2);
    await expectAllChanged(policy.params, before.policy);
    for (const [name, v] of reference.params) expect(await v.data()).toEqual(before.ref.get(name));
    const metrics = events.filter((e) => e.type === 'metrics').map((e) => e.values!);
    // The first step starts at the reference: every implicit reward is 0, the loss −log σ(0).
    expect(metrics[0]!['rewards/chosen']).toBeCloseTo(0, 5);
    expect(metrics[0]!.loss).toBeCloseTo(Math.log(2), 5);
    expect(Object.keys(metrics.at(-1)!)).toContain('eval/rewards/accuracies');
    policy.dispose();
    reference.dispose();
  });

  for (const method of [
    {
      kind: 'grpo',
      config: { ...defaultGrpoConfig, numGenerations: 3, responseLength: 5, numIterations: 2 },
    },
    { kind: 'rloo', config: { ...defaultRlooConfig, numGenerations: 3, responseLength: 5 } },
  ] as GroupMethod[]) {
    test(`${method.kind.toUpperCase()}, 2 iterations: every policy weight changed, reference and reward model identical; tensors flat over 50 more`, async () => {
      const reference = LlamaModel.init(config, 5);
      const policy = new LlamaModel(config, reference.weights());
      const reward = ScalarHeadModel.from(reference, 6);
      const trainer = new GroupTrainer(policy, reference, reward, method, { eos: [2], pad: 0 });
      const before = {
        policy: await snapshot(policy.params),
        ref: await snapshot(reference.params),
        reward: await snapshot(reward.params),
      };
      for (let i = 0; i < 2; i++) {
        const it = await trainer.iteration(prompts, 10 + i, 1e-2);
        expect(it.responses).toHaveLength(6);
        for (const [name, v] of Object.entries(it.metrics))
          expect(Number.isFinite(v), name).toBe(true);
        expect(Object.keys(it.metrics)).toEqual(
          expect.arrayContaining(['reward', 'reward_std', 'kl', 'loss']),
        );
      }
      await expectAllChanged(policy.params, before.policy);
      for (const [name, v] of reference.params)
        expect(await v.data()).toEqual(before.ref.get(name));
      for (const [name, v] of reward.params)
        expect(await v.data()).toEqual(before.reward.get(name));
      const counts: number[] = [];
      for (let i = 0; i < 50; i++) {
        await trainer.iteration(prompts, 20 + i, 1e-3);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts).size).toBe(1);
      trainer.dispose();
      [policy, reference, reward].forEach((m) => m.dispose());
    });
  }
});
