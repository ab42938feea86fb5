import { progressEvent, type TrainHooks } from '../domain/train-events.ts';
import type { TrainedPolicy } from '../model/adapters/adapter-policy.ts';
import type { GenerateOptions } from '../model/generation/generate.ts';
import { TextStream } from '../model/generation/text-stream.ts';
import { Rng } from '../util/random.ts';

/**
 * The loop every online method shares (PPO, GRPO, RLOO): each iteration takes the next prompts
 * of a seeded stream of shuffled passes, samples answers (their text streamed as it is drawn),
 * lets the method score them and update, then reports the iteration's metrics (TRL's names),
 * its sampled answers with their scores, any warnings, and progress.
 */

/** What one iteration of a method gives back. */
export interface OnlineIteration {
  metrics: Record<string, number>;
  /** The sampled answers (new tokens), their scores, and whether each ended. */
  responses: number[][];
  scores: number[];
  finished: boolean[];
  warnings?: string[];
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

export interface OnlineLoop {
  /** The method's id: the key of its streamed text ("grpo-3-7") and its name in errors. */
  method: 'ppo' | 'grpo' | 'rloo';
  iterations: number;
  /** Prompts per iteration (at most the set's size). */
  promptsPerIteration: number;
  /** Answers sampled per prompt (consecutive rows). */
  answersPerPrompt: number;
  /** The metric that is the iteration's mean score (for the run's first and last). */
  scoreMetric: string;
  /** Iteration `i` (from 0) on the chat-formatted prompts, sampling with `seed`. */
  iterate: (
    prompts: number[][],
    seed: number,
    i: number,
    onToken: NonNullable<GenerateOptions['onToken']>,
  ) => Promise<OnlineIteration>;
}

export async function runOnlineLoop(
  rl: TrainedPolicy,
  prompts: string[],
  loop: OnlineLoop,
  seed: number,
  hooks: TrainHooks,
): Promise<{ iterations: number; scoreFirst: number; scoreLast: number }> {
  if (prompts.length === 0)
    throw new Error(`${loop.method.toUpperCase()} needs at least one prompt.`);
  const tok = rl.tokenizer;
  const stream = new PromptStream(prompts, new Rng(seed));
  let scoreFirst = NaN;
  let scoreLast = NaN;
  const progress = (done: number) =>
    hooks.onEvent(progressEvent(done, loop.iterations, 'iteration'));
  progress(0);
  for (let i = 0; i < loop.iterations; i++) {
    await hooks.checkpoint();
    const batch = stream.next(Math.min(loop.promptsPerIteration, prompts.length));
    const rows = batch.flatMap((p) => new Array<string>(loop.answersPerPrompt).fill(p));
    // The answers' text as it is drawn, one stream per row.
    const streams = rows.map(() => new TextStream((ids) => tok.decode(ids, true)));
    const it = await loop.iterate(
      batch.map((p) => tok.encode(tok.chat(p))),
      seed + 1000 * (i + 1),
      i,
      (_, tokens) =>
        tokens.forEach((t, b) => {
          const delta = t < 0 ? '' : streams[b]!.push(t);
          if (delta) hooks.onEvent({ type: 'token', key: `${loop.method}-${i + 1}-${b}`, delta });
        }),
    );
    const score = it.metrics[loop.scoreMetric]!;
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
    for (const message of it.warnings ?? []) hooks.onEvent({ type: 'warning', step, message });
    progress(step);
  }
  return { iterations: loop.iterations, scoreFirst, scoreLast };
}
