import type { TrainHooks } from '../domain/train-events.ts';
import type { TrainedPolicy } from '../model/adapters/adapter-policy.ts';
import type { RewardTrainConfig } from './reward-config.ts';
import { padRows, trainRewardModel, type PairSequence } from './reward-train.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import type { ScalarHeadModel } from '../model/adapters/scalar-head.ts';
import type { PreferencePair, RewardRunResult } from '../domain/policy.ts';
import { PpoTrainer } from './ppo.ts';
import type { PpoConfig } from './ppo-config.ts';
import { runOnlineLoop } from './online-loop.ts';

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
 * PPO: `rl` (a copy of the SL-CAI policy) is trained against the reward model, with the
 * frozen `reference` (the SL-CAI policy) in the KL penalty and a value model initialised from
 * the reward model, over the online loop (online-loop.ts); the learning rates decay linearly
 * to 0, as TRL's default schedule does.
 */
export async function runPpo(
  reference: LlamaModel,
  rl: TrainedPolicy,
  reward: ScalarHeadModel,
  prompts: string[],
  config: PpoConfig,
  seed: number,
  hooks: TrainHooks,
): Promise<{ iterations: number; scoreFirst: number; scoreLast: number }> {
  const value = reward.copy(seed + 1);
  const trainer = new PpoTrainer(rl.current(), reference, reward, value, config, {
    eos: rl.eos,
    pad: rl.config.pad_token_id,
  });
  try {
    return await runOnlineLoop(
      rl,
      prompts,
      {
        method: 'ppo',
        iterations: config.iterations,
        promptsPerIteration: config.batchSize,
        answersPerPrompt: 1,
        scoreMetric: 'objective/scores',
        iterate: async (ids, at, i, onToken) => {
          const decay = 1 - i / config.iterations;
          const lr = {
            policy: config.learningRate * decay,
            value: config.valueLearningRate * decay,
          };
          const trainPolicy = i >= config.valueWarmup;
          const it = await trainer.iteration(ids, at, lr, hooks.checkpoint, trainPolicy, onToken);
          return { ...it, metrics: { ...it.metrics, 'train/lr': lr.policy } };
        },
      },
      seed,
      hooks,
    );
  } finally {
    trainer.dispose();
    value.dispose();
  }
}
