import type * as tf from '@tensorflow/tfjs-core';
import { progressEvent, type OnTrainEvent } from '../domain/train-events.ts';
import { Rng } from '../util/random.ts';
import { AdamW, defaultAdamW, warmupCosine } from './adamw.ts';

/**
 * The loop every offline trainer runs (SFT, the reward model, DPO): epochs over seeded shuffles
 * of the training rows in batches, AdamW with linear warm-up and cosine decay and global-norm
 * clipping, a `metrics` event per step and held-out `eval/` metrics after every epoch, progress
 * in steps, the caller's checkpoint (Stop, pause) before every step, and a non-finite loss
 * stopping the run with the step it happened at. The online methods (PPO, GRPO, RLOO) share
 * theirs in online-loop.ts. A trainer supplies only what is its own: one step on a batch and
 * its held-out statistics.
 */

export interface EpochSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupRatio: number;
  maxGradNorm: number;
  /** AdamW's decoupled weight decay (0 when the trainer has none). */
  weightDecay?: number;
}

export interface EpochHooks {
  onEvent?: OnTrainEvent;
  /** Awaited before every step: throws to stop the run, waits to pause it. */
  checkpoint?: () => Promise<void>;
}

export interface EpochLoop<Row> {
  /** How messages name the loss ("SFT", "reward-model", "DPO"). */
  name: string;
  train: Row[];
  heldOut: Row[];
  settings: EpochSettings;
  /** What the optimizer updates. */
  params: Map<string, tf.Variable>;
  seed: number;
  /** One update on `batch` at `lr`: its loss and the step's metrics (TRL's names). */
  step(
    batch: Row[],
    optimizer: AdamW,
    lr: number,
  ): Promise<{ loss: number; values: Record<string, number> }>;
  /** Held-out statistics after an epoch, by name without the `eval/` prefix. */
  evaluate(rows: Row[]): Promise<Record<string, number>>;
  hooks?: EpochHooks;
}

export interface EpochResult {
  steps: number;
  /** The mean training loss of the last epoch. */
  trainLoss: number;
  /** Held-out statistics after each epoch (empty without held-out rows). */
  evals: Record<string, number>[];
}

export async function runEpochs<Row>(loop: EpochLoop<Row>): Promise<EpochResult> {
  const { settings: s, train, hooks = {} } = loop;
  const perEpoch = Math.ceil(train.length / s.batchSize);
  const total = perEpoch * s.epochs;
  const warmup = Math.round(s.warmupRatio * total);
  const optimizer = new AdamW(loop.params, {
    ...defaultAdamW,
    weightDecay: s.weightDecay ?? 0,
    maxGradNorm: s.maxGradNorm,
  });
  const rng = new Rng(loop.seed);
  const evals: Record<string, number>[] = [];
  let trainLoss = NaN;
  let step = 0;
  const progress = () => hooks.onEvent?.(progressEvent(step, total, 'step'));
  progress();
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const order = rng.shuffle(train);
      let sum = 0;
      for (let start = 0; start < order.length; start += s.batchSize) {
        await hooks.checkpoint?.();
        const lr = warmupCosine(step, total, warmup, s.learningRate);
        const { loss, values } = await loop.step(
          order.slice(start, start + s.batchSize),
          optimizer,
          lr,
        );
        if (!Number.isFinite(loss))
          throw new Error(`The ${loop.name} loss became ${loss} at step ${step + 1}.`);
        sum += loss;
        step++;
        const done = Math.min(1, (start + s.batchSize) / order.length);
        hooks.onEvent?.({
          type: 'metrics',
          step,
          values: { ...values, 'train/lr': lr, 'train/epoch': epoch + done },
        });
        progress();
      }
      trainLoss = sum / perEpoch;
      if (loop.heldOut.length) {
        const e = await loop.evaluate(loop.heldOut);
        evals.push(e);
        const named = Object.entries(e).map(([k, v]) => [`eval/${k}`, v]);
        hooks.onEvent?.({
          type: 'metrics',
          step,
          values: { ...Object.fromEntries(named), 'train/epoch': epoch + 1 },
        });
      }
    }
  } finally {
    optimizer.dispose();
  }
  return { steps: step, trainLoss, evals };
}
