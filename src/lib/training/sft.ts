import * as tf from '@tensorflow/tfjs-core';
import type { SftExample } from '../domain/policy.ts';
import type { OnTrainEvent } from '../domain/train-events.ts';
import { runEpochs } from './epoch-loop.ts';
import type { TrainedPolicy } from '../model/adapters/adapter-policy.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import type { SftConfig } from './sft-config.ts';
import { lmLoss, trainStep, type LmBatch } from './train-step.ts';

/** One SFT example, tokenised: the chat prompt and the response (end-of-turn token included). */
export interface SftSequence {
  prompt: number[];
  response: number[];
}

/** SFT examples as token ids: the chat prompt, then the response and the end-of-turn token. */
export function sftSequences(session: TrainedPolicy, examples: SftExample[]): SftSequence[] {
  const tok = session.tokenizer;
  const end = session.eos[0];
  if (end === undefined) throw new Error('The policy has no end-of-turn token to train on.');
  return examples.map((e) => ({
    prompt: tok.encode(tok.chat(e.prompt)),
    response: [...tok.encode(e.response), end],
  }));
}

/**
 * A right-padded batch where the loss counts response tokens only: position t predicts token
 * t + 1, which counts when it lies in the response. Sequences are cut at `maxLength` tokens.
 */
export function sftBatch(rows: SftSequence[], padId: number, maxLength: number): LmBatch {
  const seqs = rows.map((r) => [...r.prompt, ...r.response].slice(0, maxLength + 1));
  const length = Math.max(...seqs.map((s) => s.length)) - 1; // T
  const batch: LmBatch = { ids: [], targets: [], lossMask: [], keyMask: [] };
  rows.forEach((row, b) => {
    const seq = seqs[b]!;
    const padded = [...seq, ...new Array<number>(length + 1 - seq.length).fill(padId)]; // [T + 1]
    batch.ids.push(padded.slice(0, length));
    batch.targets.push(padded.slice(1));
    batch.lossMask.push(
      Array.from({ length }, (_, t) => (t + 1 >= row.prompt.length && t + 1 < seq.length ? 1 : 0)),
    );
    batch.keyMask.push(Array.from({ length }, (_, t) => (t < seq.length ? 1 : 0)));
  });
  return batch;
}

export interface SftHooks {
  /** After every step: `train/loss`, `train/lr`, `train/grad_norm`, `train/epoch`; after every
   * epoch (with held-out data) also `eval/loss`. */
  onEvent?: OnTrainEvent;
  /** Awaited between steps; throws to cancel. */
  checkpoint?: () => Promise<void>;
}

export interface SftResult {
  steps: number;
  /** Mean training loss of the last epoch. */
  trainLoss: number;
  /** Held-out loss after each epoch (empty without held-out data). */
  evalLoss: number[];
}

/** Mean response-token loss over `rows` (no gradients), batch by batch. */
export async function sftEvalLoss(
  model: LlamaModel,
  rows: SftSequence[],
  batchSize: number,
): Promise<number> {
  const maxLength = model.config.max_position_embeddings;
  let total = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = sftBatch(rows.slice(i, i + batchSize), model.config.pad_token_id, maxLength);
    const tokens = batch.lossMask.flat().reduce((a, m) => a + m, 0);
    const loss = tf.tidy(() => lmLoss(model, batch));
    total += (await loss.data())[0]! * tokens;
    count += tokens;
    loss.dispose();
  }
  return total / Math.max(1, count);
}

/**
 * Supervised fine-tuning: AdamW with linear warm-up and cosine decay, global-norm clipping,
 * shuffled padded batches (seeded), loss on response tokens only (epoch-loop.ts).
 */
export async function runSft(
  model: LlamaModel,
  train: SftSequence[],
  heldOut: SftSequence[],
  config: SftConfig,
  seed: number,
  hooks: SftHooks = {},
): Promise<SftResult> {
  if (train.length === 0) throw new Error('The SFT set is empty: there is nothing to train on.');
  const maxLength = model.config.max_position_embeddings;
  const result = await runEpochs<SftSequence>({
    name: 'SFT',
    train,
    heldOut,
    settings: config,
    params: model.trainable(),
    seed,
    hooks,
    async step(rows, optimizer, lr) {
      const batch = sftBatch(rows, model.config.pad_token_id, maxLength);
      const { loss, gradNorm } = await trainStep(model, optimizer, batch, lr);
      return { loss, values: { 'train/loss': loss, 'train/grad_norm': gradNorm } };
    },
    evaluate: async (rows) => ({ loss: await sftEvalLoss(model, rows, config.batchSize) }),
  });
  return {
    steps: result.steps,
    trainLoss: result.trainLoss,
    evalLoss: result.evals.map((e) => e.loss!),
  };
}
