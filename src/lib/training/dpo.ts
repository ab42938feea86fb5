import * as tf from '@tensorflow/tfjs-core';
import type { TrainHooks } from '../domain/train-events.ts';
import { batchInputs } from '../model/architecture/layers.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import { dpoLoss } from '../ops/dpo-loss.ts';
import type { DpoConfig } from './dpo-config.ts';
import { runEpochs } from './epoch-loop.ts';
import { accumulatedGrads } from './policy-grads.ts';
import { buildRollout, type Rollout } from './rollout.ts';

/**
 * DPO (Rafailov et al. 2023) on the AI-labelled pairs: the policy (a copy of the SL-CAI
 * policy) learns to raise β·log(π/π_ref) of the chosen answer over the rejected one, with
 * the frozen SL-CAI policy as the reference; no reward model, no sampling.
 */

/** One labelled pair, tokenised: the chat prompt, each answer with its end-of-turn token. */
export interface DpoPair {
  prompt: number[];
  chosen: number[];
  rejected: number[];
  /** Probability that `chosen` is the better one (the AI label). */
  label: number;
}

/** TRL's DPO metrics of a step (or of the held-out pairs under `eval/`). */
export interface DpoStats {
  loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/accuracies': number;
  'rewards/margins': number;
  'logps/chosen': number;
  'logps/rejected': number;
}

/** Chosen rows then rejected rows of `pairs` as one rollout [2B, T]. */
function pairRows(pairs: DpoPair[], pad: number): Rollout {
  const prompts = [...pairs, ...pairs].map((p) => p.prompt);
  return buildRollout(
    prompts,
    [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)],
    pad,
  );
}

/** Sequence log-probs of each row's answer under `model`, [2B] (inside a tape or a tidy). */
function answerLogps(model: LlamaModel, r: Rollout): tf.Tensor1D {
  const { hidden } = model.forward(batchInputs(r.ids, r.keyMask));
  const targets = tf.tensor2d(r.targets, undefined, 'int32');
  const logp = model.tokenLogprobs(hidden, targets).logprobs; // [2B, T]
  return tf.sum(tf.mul(logp, tf.tensor2d(r.responseMask)), 1) as tf.Tensor1D;
}

async function statsOf(
  loss: tf.Scalar,
  chosenRewards: tf.Tensor1D,
  rejectedRewards: tf.Tensor1D,
  logps: tf.Tensor1D,
): Promise<DpoStats> {
  const [l, c, r, lp] = await Promise.all([
    loss.data(),
    chosenRewards.data(),
    rejectedRewards.data(),
    logps.data(),
  ]);
  const n = c.length;
  const mean = (x: ArrayLike<number>, from = 0, to = x.length) => {
    let s = 0;
    for (let i = from; i < to; i++) s += x[i]!;
    return s / Math.max(1, to - from);
  };
  let right = 0;
  for (let i = 0; i < n; i++) if (c[i]! > r[i]!) right++;
  return {
    loss: l[0]!,
    'rewards/chosen': mean(c),
    'rewards/rejected': mean(r),
    'rewards/accuracies': right / n,
    'rewards/margins': mean(c) - mean(r),
    'logps/chosen': mean(lp, 0, n),
    'logps/rejected': mean(lp, n, 2 * n),
  };
}

/** The frozen reference's sequence log-probs of every pair, [chosen, rejected] each. */
async function referenceLogps(reference: LlamaModel, pairs: DpoPair[], pad: number, size: number) {
  const out: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += size) {
    const batch = pairs.slice(i, i + size);
    const t = tf.tidy(() => answerLogps(reference, pairRows(batch, pad)));
    const v = await t.data();
    t.dispose();
    batch.forEach((_, b) => out.push([v[b]!, v[b + batch.length]!]));
  }
  return out;
}

/** Loss and statistics of a batch, inside the tape when training. */
function batchLoss(
  policy: LlamaModel,
  batch: DpoPair[],
  ref: [number, number][],
  config: DpoConfig,
  pad: number,
) {
  const logps = answerLogps(policy, pairRows(batch, pad)); // [2B]
  const [chosen, rejected] = tf.split(logps, 2) as [tf.Tensor1D, tf.Tensor1D];
  const labels = tf.tensor1d(batch.map((p) => (config.softLabels ? p.label : 1)));
  const out = dpoLoss(
    chosen,
    rejected,
    tf.tensor1d(ref.map((r) => r[0])),
    tf.tensor1d(ref.map((r) => r[1])),
    labels,
    config.beta,
  );
  return { ...out, logps };
}

/** Held-out statistics, without gradients, in batches of `size` (every statistic is a mean
 * over pairs, so the batches' means weighted by their sizes give the whole set's). */
async function evaluateDpo(
  policy: LlamaModel,
  pairs: DpoPair[],
  ref: [number, number][],
  config: DpoConfig,
  pad: number,
): Promise<DpoStats> {
  const sums: Record<string, number> = {};
  for (let i = 0; i < pairs.length; i += config.batchSize) {
    const batch = pairs.slice(i, i + config.batchSize);
    const kept = tf.tidy(() => {
      const b = batchLoss(policy, batch, ref.slice(i, i + batch.length), config, pad);
      return [b.loss, b.chosenRewards, b.rejectedRewards, b.logps] as const;
    });
    const stats = await statsOf(...kept);
    tf.dispose([...kept]);
    for (const [k, v] of Object.entries(stats)) sums[k] = (sums[k] ?? 0) + v * batch.length;
  }
  return Object.fromEntries(
    Object.entries(sums).map(([k, v]) => [k, v / pairs.length]),
  ) as unknown as DpoStats;
}

/**
 * Trains `policy` with DPO against the frozen `reference` on `train` (AdamW, warm-up and
 * cosine decay, clipping, seeded shuffles), with held-out statistics after every epoch
 * (epoch-loop.ts). The reference's log-probabilities are computed once, before the first step.
 */
export async function trainDpo(
  policy: LlamaModel,
  reference: LlamaModel,
  train: DpoPair[],
  heldOut: DpoPair[],
  config: DpoConfig,
  seed: number,
  pad: number,
  hooks: TrainHooks,
): Promise<{ steps: number; eval: DpoStats[] }> {
  if (train.length === 0) throw new Error('There are no preference pairs for DPO to train on.');
  const refOf = new Map<DpoPair, [number, number]>();
  const all = [...train, ...heldOut];
  (await referenceLogps(reference, all, pad, config.batchSize)).forEach((r, i) =>
    refOf.set(all[i]!, r),
  );
  const refs = (pairs: DpoPair[]) => pairs.map((p) => refOf.get(p)!);
  const result = await runEpochs<DpoPair>({
    name: 'DPO',
    train,
    heldOut,
    settings: config,
    params: policy.trainable(),
    seed,
    hooks,
    async step(batch, optimizer, lr) {
      let kept: [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] | null = null;
      const { grads, loss } = accumulatedGrads(policy.trainable(), 1, () => {
        const b = batchLoss(policy, batch, refs(batch), config, pad);
        kept = [tf.keep(b.chosenRewards), tf.keep(b.rejectedRewards), tf.keep(b.logps)];
        return b.loss;
      });
      const norm = optimizer.apply(grads, lr);
      const stats = await statsOf(loss, ...kept!);
      const gradNorm = (await norm.data())[0]!;
      tf.dispose([loss, norm, ...kept!]);
      return { loss: stats.loss, values: { ...stats, 'train/grad_norm': gradNorm } };
    },
    evaluate: async (rows) => ({ ...(await evaluateDpo(policy, rows, refs(rows), config, pad)) }),
  });
  return { steps: result.steps, eval: result.evals as unknown as DpoStats[] };
}
