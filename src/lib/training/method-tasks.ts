import type { TrainHooks } from '../domain/train-events.ts';
import type { PreferencePair } from '../domain/policy.ts';
import type { TrainedPolicy } from '../model/adapters/adapter-policy.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import type { ScalarHeadModel } from '../model/adapters/scalar-head.ts';
import { trainDpo, type DpoPair } from './dpo.ts';
import type { DpoConfig } from './dpo-config.ts';
import { GroupTrainer } from './group-rl.ts';
import type { GroupMethod } from './online-config.ts';
import { runOnlineLoop } from './online-loop.ts';

/**
 * The engine worker's work for the RL-CAI methods beside PPO, between the protocol and the
 * pure trainers: tokenising, streaming the answers' text, and reporting.
 */

/** A labelled pair as DPO reads it: the chat prompt, each answer ending its turn. */
function dpoPairs(session: TrainedPolicy, pairs: PreferencePair[]): DpoPair[] {
  const tok = session.tokenizer;
  const answer = (text: string) => [...tok.encode(text), session.eos[0]!];
  return pairs.map((p) => ({
    prompt: tok.encode(tok.chat(p.prompt)),
    chosen: answer(p.chosen),
    rejected: answer(p.rejected),
    label: p.label,
  }));
}

/** DPO: `rl` (a copy of the SL-CAI policy) against the frozen SL-CAI `reference`. */
export async function runDpo(
  reference: LlamaModel,
  rl: TrainedPolicy,
  train: PreferencePair[],
  heldOut: PreferencePair[],
  config: DpoConfig,
  seed: number,
  hooks: TrainHooks,
) {
  return trainDpo(
    rl.current(),
    reference,
    dpoPairs(rl, train),
    dpoPairs(rl, heldOut),
    config,
    seed,
    rl.config.pad_token_id,
    hooks,
  );
}

/**
 * GRPO or RLOO: `rl` (a copy of the SL-CAI policy) trained against the reward model over the
 * online loop (online-loop.ts), the learning rate decayed linearly to 0 (as for PPO).
 */
export async function runGroupRl(
  reference: LlamaModel,
  rl: TrainedPolicy,
  reward: ScalarHeadModel,
  prompts: string[],
  method: GroupMethod,
  seed: number,
  hooks: TrainHooks,
): Promise<{ iterations: number; scoreFirst: number; scoreLast: number }> {
  const c = method.config;
  const trainer = new GroupTrainer(rl.current(), reference, reward, method, {
    eos: rl.eos,
    pad: rl.config.pad_token_id,
  });
  try {
    return await runOnlineLoop(
      rl,
      prompts,
      {
        method: method.kind,
        iterations: c.iterations,
        promptsPerIteration: c.promptsPerIteration,
        answersPerPrompt: c.numGenerations,
        scoreMetric: 'reward',
        iterate: (ids, at, i, onToken) =>
          trainer.iteration(
            ids,
            at,
            c.learningRate * (1 - i / c.iterations),
            hooks.checkpoint,
            onToken,
          ),
      },
      seed,
      hooks,
    );
  } finally {
    trainer.dispose();
  }
}
