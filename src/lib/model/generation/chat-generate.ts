import type { GenerateResult, GenerateSettings } from '../../domain/policy.ts';
import { generate } from './generate.ts';
import type { TrainedPolicy } from '../adapters/adapter-policy.ts';
import { TextStream } from './text-stream.ts';

/** What a generation returns (the worker adds the backend it ran on). */
export type ChatGenerateResult = Omit<GenerateResult, 'backend'>;

/** Answers each prompt with the policy, streaming text deltas per row. */
export async function chatGenerate(
  session: TrainedPolicy,
  prompts: string[],
  config: GenerateSettings,
  hooks: { onText?: (index: number, delta: string) => void; checkpoint?: () => Promise<void> } = {},
): Promise<ChatGenerateResult> {
  const tok = session.tokenizer;
  const streams = prompts.map(() => new TextStream((ids) => tok.decode(ids, true)));
  const start = performance.now();
  const result = await generate(
    session.current(),
    prompts.map((p) => tok.encode(tok.chat(p))),
    {
      ...config,
      eosIds: config.ignoreEos ? [] : session.eos,
      padId: session.config.pad_token_id,
      onToken: (_, tokens) =>
        tokens.forEach((t, i) => {
          if (t < 0) return;
          const delta = streams[i]!.push(t);
          if (delta) hooks.onText?.(i, delta);
        }),
      checkpoint: hooks.checkpoint,
    },
  );
  return {
    texts: result.tokens.map((t) => tok.decode(t, true)),
    tokenCounts: result.tokens.map((t) => t.length),
    finished: result.finished,
    seconds: (performance.now() - start) / 1000,
  };
}
