import { generate } from './generate.ts';
import type { PolicySession } from './policy-session.ts';
import { TextStream } from './text-stream.ts';

/** A generation request as the pipeline and the UI make it: user messages in, answers out. */
export interface ChatGenerateConfig {
  /** Maximum new tokens per answer. Default 96. */
  maxNewTokens: number;
  /** Sampling temperature; 0 is greedy. Default 1. */
  temperature: number;
  /** Top-k filter; 0 keeps all. Default 0. */
  topK: number;
  /** Nucleus (top-p) filter; 1 keeps all. Default 1. */
  topP: number;
  seed: number;
  /** Recompute every step without the KV cache (for benchmarks and checks). Default false. */
  noCache: boolean;
  /** Keep generating past end-of-text, to exactly maxNewTokens (benchmarks). Default false. */
  ignoreEos?: boolean;
}

export const defaultChatGenerate: ChatGenerateConfig = {
  maxNewTokens: 96,
  temperature: 1,
  topK: 0,
  topP: 1,
  seed: 0,
  noCache: false,
};

export interface ChatGenerateResult {
  texts: string[];
  /** New tokens per answer (EOS included). */
  tokenCounts: number[];
  finished: boolean[];
  seconds: number;
}

/** Answers each prompt with the policy, streaming text deltas per row. */
export async function chatGenerate(
  session: PolicySession,
  prompts: string[],
  config: ChatGenerateConfig,
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
