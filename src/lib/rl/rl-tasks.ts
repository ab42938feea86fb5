import { progressEvent, type OnTrainEvent } from '../domain/train-events.ts';
import type { TrainedPolicy } from '../model/adapter-policy.ts';
import type { RewardTrainConfig } from '../model/reward-config.ts';
import { padRows, trainRewardModel, type PairSequence } from '../model/reward-train.ts';
import type { LlamaModel } from '../model/llama.ts';
import type { ScalarHeadModel } from '../model/scalar-head.ts';
import { TextStream } from '../model/text-stream.ts';
import type { PreferencePair, RewardRunResult } from '../domain/policy.ts';
import { Rng } from '../util/random.ts';
import { PpoTrainer } from './ppo.ts';
import type { PpoConfig } from './ppo-config.ts';

/**
 * The engine worker's RL-CAI work, between the protocol and the pure cores: tokenising,
 * building the four models of PPO from the sessions, and reporting.
 */

/** A prompt and response as the reward model reads them: chat prompt, answer, end of turn. */
function sequence(session: TrainedPolicy, prompt: string, response: string): number[] {
  const tok = session.tokenizer;
  return [...tok.encode(tok.chat(prompt)), ...tok.encode(response), session.eos[0]!];
}

function pairSequences(session: TrainedPolicy, pairs: PreferencePair[]): PairSequence[] {
  return pairs.map((p) => ({
    chosen: sequence(session, p.prompt, p.chosen),
    rejected: sequence(session, p.prompt, p.rejected),
    label: p.label,
  }));
}

/** Trains `model` (the reward model, started from the SL-CAI policy `sl`); disposes it on failure. */
export async function trainReward(
  sl: TrainedPolicy,
  model: ScalarHeadModel,
  train: PreferencePair[],
  heldOut: PreferencePair[],
  config: RewardTrainConfig,
  seed: number,
  hooks: Parameters<typeof trainRewardModel>[5],
): Promise<{ model: ScalarHeadModel; result: Omit<RewardRunResult, 'seconds' | 'checkpoint'> }> {
  try {
    const result = await trainRewardModel(
      model,
      pairSequences(sl, train),
      pairSequences(sl, heldOut),
      config,
      seed,
      hooks,
    );
    return { model, result };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Reward-model scores of (prompt, response) items, in batches. */
export async function rewardScores(
  session: TrainedPolicy,
  model: ScalarHeadModel,
  items: { prompt: string; response: string }[],
  batchSize = 16,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const seqs = items.slice(i, i + batchSize).map((x) => sequence(session, x.prompt, x.response));
    const { ids, keyMask } = padRows(
      seqs,
      session.config.pad_token_id,
      session.config.max_position_embeddings,
    );
    const scores = model.scores(ids, keyMask);
    out.push(...(await scores.data()));
    scores.dispose();
  }
  return out;
}

/**
 * Prompts in passes, each a fresh shuffle, as TRL's dataloader serves them: every prompt once
 * per pass. A batch as large as the set is the whole set, so iterations compare.
 */
export class PromptStream {
  private order: string[] = [];

  constructor(
    private readonly prompts: string[],
    private readonly rng: Rng,
  ) {}

  next(size: number): string[] {
    const out: string[] = [];
    while (out.length < size) {
      if (this.order.length === 0) this.order = this.rng.shuffle(this.prompts);
      out.push(this.order.pop()!);
    }
    return out;
  }
}

export interface PpoHooks {
  /** Per iteration: the rollouts' text as it is drawn (`token`), `metrics` (TRL's names),
   * `samples` (the rollouts), any `warning`s, and `progress`. */
  onEvent: OnTrainEvent;
  checkpoint: () => Promise<void>;
}

/**
 * PPO: `rl` (a copy of the SL-CAI policy) is trained against the reward model, with the
 * frozen `reference` (the SL-CAI policy) in the KL penalty and a value model initialised from
 * the reward model.
 * Each iteration takes the next `batchSize` prompts of a seeded stream of shuffled passes; the
 * learning rates decay linearly to 0, as TRL's default schedule does.
 */
export async function runPpo(
  reference: LlamaModel,
  rl: TrainedPolicy,
  reward: ScalarHeadModel,
  prompts: string[],
  config: PpoConfig,
  seed: number,
  hooks: PpoHooks,
): Promise<{ iterations: number; scoreFirst: number; scoreLast: number }> {
  if (prompts.length === 0) throw new Error('PPO needs at least one prompt.');
  const tok = rl.tokenizer;
  const value = reward.copy(seed + 1);
  const trainer = new PpoTrainer(rl.current(), reference, reward, value, config, {
    eos: rl.eos,
    pad: rl.config.pad_token_id,
  });
  const stream = new PromptStream(prompts, new Rng(seed));
  let scoreFirst = NaN;
  let scoreLast = NaN;
  const total = config.iterations;
  const progress = (done: number) => hooks.onEvent(progressEvent(done, total, 'iteration'));
  progress(0);
  try {
    for (let i = 0; i < config.iterations; i++) {
      await hooks.checkpoint();
      const batch = stream.next(Math.min(config.batchSize, prompts.length));
      const decay = 1 - i / config.iterations;
      const lr = { policy: config.learningRate * decay, value: config.valueLearningRate * decay };
      // The rollouts' text as it is drawn, one stream per row.
      const streams = batch.map(() => new TextStream((ids) => tok.decode(ids, true)));
      const it = await trainer.iteration(
        batch.map((p) => tok.encode(tok.chat(p))),
        seed + 1000 * (i + 1),
        lr,
        hooks.checkpoint,
        i >= config.valueWarmup,
        (_, tokens) =>
          tokens.forEach((t, b) => {
            const delta = t < 0 ? '' : streams[b]!.push(t);
            if (delta) hooks.onEvent({ type: 'token', key: `ppo-${i + 1}-${b}`, delta });
          }),
      );
      const score = it.metrics['objective/scores']!;
      if (i === 0) scoreFirst = score;
      scoreLast = score;
      const step = i + 1;
      hooks.onEvent({ type: 'metrics', step, values: { ...it.metrics, 'train/lr': lr.policy } });
      hooks.onEvent({
        type: 'samples',
        step,
        samples: it.responses.map((r, b) => ({
          prompt: batch[b]!,
          response: tok.decode(r, true),
          score: it.scores[b]!,
          finished: it.finished[b]!,
        })),
      });
      for (const message of it.warnings) hooks.onEvent({ type: 'warning', step, message });
      progress(step);
    }
  } finally {
    trainer.dispose();
    value.dispose();
  }
  return { iterations: config.iterations, scoreFirst, scoreLast };
}
