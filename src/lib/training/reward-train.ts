import * as tf from '@tensorflow/tfjs-core';
import type { OnTrainEvent } from '../domain/train-events.ts';
import { bradleyTerryLoss } from '../ops/ppo-losses.ts';
import type { AdamW } from './adamw.ts';
import { runEpochs } from './epoch-loop.ts';
import type { RewardStats } from '../domain/policy.ts';
import type { RewardTrainConfig } from './reward-config.ts';
import type { ScalarHeadModel } from '../model/adapters/scalar-head.ts';

/** One preference pair, tokenised: whole sequences (prompt, response, end-of-turn token). */
export interface PairSequence {
  chosen: number[];
  rejected: number[];
  /** Probability that `chosen` is the better one (≥ 0.5 by construction). */
  label: number;
}

/** Right-pads whole sequences (cut at `maxLength`): ids and keyMask [B, T]. */
export function padRows(
  seqs: number[][],
  padId: number,
  maxLength: number,
): { ids: number[][]; keyMask: number[][] } {
  const cut = seqs.map((s) => s.slice(0, maxLength));
  const length = Math.max(...cut.map((s) => s.length));
  const fill = (s: number[], v: number) => new Array<number>(length - s.length).fill(v);
  return {
    ids: cut.map((s) => [...s, ...fill(s, padId)]),
    keyMask: cut.map((s) => [...s.map(() => 1), ...fill(s, 0)]),
  };
}

/** Chosen rows then rejected rows, right-padded: ids and keyMask [2B, T]. */
export function pairBatch(
  pairs: PairSequence[],
  padId: number,
  maxLength: number,
): { ids: number[][]; keyMask: number[][] } {
  return padRows(
    [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)],
    padId,
    maxLength,
  );
}

/** Rewards of chosen and rejected responses, [B] each (the caller disposes). */
function pairRewards(model: ScalarHeadModel, pairs: PairSequence[]) {
  const { ids, keyMask } = pairBatch(
    pairs,
    model.trunk.config.pad_token_id,
    model.trunk.config.max_position_embeddings,
  );
  const [chosen, rejected] = tf.tidy(() => tf.split(model.scores(ids, keyMask), 2)) as [
    tf.Tensor1D,
    tf.Tensor1D,
  ]; // [B] each, from [2B]
  return { chosen, rejected };
}

function stats(loss: number, chosen: Float32Array, rejected: Float32Array): RewardStats {
  const all = [...chosen, ...rejected];
  const n = chosen.length;
  let right = 0;
  let margin = 0;
  for (let i = 0; i < n; i++) {
    if (chosen[i]! > rejected[i]!) right++;
    margin += chosen[i]! - rejected[i]!;
  }
  return {
    loss,
    accuracy: right / n,
    margin: margin / n,
    min_reward: Math.min(...all),
    mean_reward: all.reduce((a, b) => a + b, 0) / all.length,
    max_reward: Math.max(...all),
  };
}

/** Reward-model statistics on held-out pairs, without gradients. */
export async function evaluateRewardModel(
  model: ScalarHeadModel,
  pairs: PairSequence[],
  batchSize: number,
  centering = 0,
): Promise<RewardStats> {
  const chosenAll: number[] = [];
  const rejectedAll: number[] = [];
  let lossSum = 0;
  for (let i = 0; i < pairs.length; i += batchSize) {
    const batch = pairs.slice(i, i + batchSize);
    const { chosen, rejected } = pairRewards(model, batch);
    const labels = tf.tensor1d(batch.map((p) => p.label));
    const loss = tf.tidy(() => bradleyTerryLoss(chosen, rejected, labels, centering));
    lossSum += (await loss.data())[0]! * batch.length;
    chosenAll.push(...(await chosen.data()));
    rejectedAll.push(...(await rejected.data()));
    tf.dispose([chosen, rejected, labels, loss]);
  }
  return stats(
    lossSum / pairs.length,
    Float32Array.from(chosenAll),
    Float32Array.from(rejectedAll),
  );
}

export interface RewardTrainHooks {
  /** Per step: loss, accuracy, margin, min/mean/max_reward, train/lr, train/grad_norm; per
   * epoch on held-out pairs: the same under eval/. */
  onEvent?: OnTrainEvent;
  checkpoint?: () => Promise<void>;
}

/** One AdamW step on a batch of pairs: the loss, the gradient norm, and the batch's rewards. */
async function rewardStep(
  model: ScalarHeadModel,
  optimizer: AdamW,
  batch: PairSequence[],
  lr: number,
  config: RewardTrainConfig,
): Promise<{ loss: number; gradNorm: number; chosen: Float32Array; rejected: Float32Array }> {
  const names = new Map([...model.params].map(([n, v]) => [v.name, n]));
  const labels = tf.tensor1d(batch.map((p) => p.label)); // [B]
  let chosen: tf.Tensor1D | null = null;
  let rejected: tf.Tensor1D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const r = pairRewards(model, batch); // [B] each
    chosen = tf.keep(r.chosen);
    rejected = tf.keep(r.rejected);
    return bradleyTerryLoss(r.chosen, r.rejected, labels, config.centering);
  }, [...model.params.values()]);
  const norm = optimizer.apply(
    new Map(Object.entries(grads).map(([v, g]) => [names.get(v)!, g])),
    lr,
  );
  const [loss, gradNorm, c, r] = await Promise.all([
    value.data(),
    norm.data(),
    chosen!.data(),
    rejected!.data(),
  ]);
  tf.dispose([value, norm, labels, chosen!, rejected!]);
  return {
    loss: loss[0]!,
    gradNorm: gradNorm[0]!,
    chosen: c as Float32Array,
    rejected: r as Float32Array,
  };
}

/**
 * Trains the reward model with the Bradley-Terry loss on soft labels: AdamW, warm-up and
 * cosine decay, clipping, seeded shuffles; held-out statistics after every epoch (epoch-loop.ts).
 */
export async function trainRewardModel(
  model: ScalarHeadModel,
  train: PairSequence[],
  heldOut: PairSequence[],
  config: RewardTrainConfig,
  seed: number,
  hooks: RewardTrainHooks = {},
): Promise<{ steps: number; eval: RewardStats[] }> {
  if (train.length === 0)
    throw new Error('There are no preference pairs to train the reward model on.');
  const result = await runEpochs<PairSequence>({
    name: 'reward-model',
    train,
    heldOut,
    settings: config,
    params: model.params,
    seed,
    hooks,
    async step(batch, optimizer, lr) {
      const { loss, gradNorm, chosen, rejected } = await rewardStep(
        model,
        optimizer,
        batch,
        lr,
        config,
      );
      return { loss, values: { ...stats(loss, chosen, rejected), 'train/grad_norm': gradNorm } };
    },
    evaluate: async (rows) => ({
      ...(await evaluateRewardModel(model, rows, config.batchSize, config.centering)),
    }),
  });
  return { steps: result.steps, eval: result.evals as unknown as RewardStats[] };
}
