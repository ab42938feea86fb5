import { progressEvent, type TrainHooks } from '../domain/train-events.ts';
import type { PreferencePair } from '../domain/policy.ts';
import type { TrainedPolicy } from '../model/adapter-policy.ts';
import type { LlamaModel } from '../model/llama.ts';
import type { ScalarHeadModel } from '../model/scalar-head.ts';
import { TextStream } from '../model/text-stream.ts';
import { Rng } from '../util/random.ts';
import { trainDpo, type DpoPair } from './dpo.ts';
import type { DpoConfig } from './dpo-config.ts';
import { GroupTrainer } from './group-rl.ts';
import type { GroupMethod } from './online-config.ts';
import { PromptStream } from './rl-tasks.ts';

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
 * GRPO or RLOO: `rl` (a copy of the SL-CAI policy) trained against the reward model, each
 * iteration on the next prompts of a seeded stream of shuffled passes, the learning rate
 * decayed linearly to 0 (as for PPO).
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
  if (prompts.length === 0)
    throw new Error(`${method.kind.toUpperCase()} needs at least one prompt.`);
  const c = method.config;
  const tok = rl.tokenizer;
  const trainer = new GroupTrainer(rl.current(), reference, reward, method, {
    eos: rl.eos,
    pad: rl.config.pad_token_id,
  });
  const stream = new PromptStream(prompts, new Rng(seed));
  let scoreFirst = NaN;
  let scoreLast = NaN;
  hooks.onEvent(progressEvent(0, c.iterations, 'iteration'));
  try {
    for (let i = 0; i < c.iterations; i++) {
      await hooks.checkpoint();
      const batch = stream.next(Math.min(c.promptsPerIteration, prompts.length));
      const lr = c.learningRate * (1 - i / c.iterations);
      const rows = batch.flatMap((p) => new Array<string>(c.numGenerations).fill(p));
      const streams = rows.map(() => new TextStream((ids) => tok.decode(ids, true)));
      const it = await trainer.iteration(
        batch.map((p) => tok.encode(tok.chat(p))),
        seed + 1000 * (i + 1),
        lr,
        hooks.checkpoint,
        (_, tokens) =>
          tokens.forEach((t, b) => {
            const delta = t < 0 ? '' : streams[b]!.push(t);
            if (delta) hooks.onEvent({ type: 'token', key: `${method.kind}-${i + 1}-${b}`, delta });
          }),
      );
      const score = it.metrics['reward']!;
      if (i === 0) scoreFirst = score;
      scoreLast = score;
      const step = i + 1;
      hooks.onEvent({ type: 'metrics', step, values: it.metrics });
      hooks.onEvent({
        type: 'samples',
        step,
        samples: it.responses.map((r, b) => ({
          prompt: rows[b]!,
          response: tok.decode(r, true),
          score: it.scores[b]!,
          finished: it.finished[b]!,
        })),
      });
      hooks.onEvent(progressEvent(step, c.iterations, 'iteration'));
    }
  } finally {
    trainer.dispose();
  }
  return { iterations: c.iterations, scoreFirst, scoreLast };
}
