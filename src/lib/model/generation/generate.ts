import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/random.ts';
import { disposeCache, type KvCache, type LlamaModel } from '../architecture/llama.ts';
import { batchInputs } from '../architecture/layers.ts';
import { sampleToken, type TokenSampling } from './sampling.ts';

/**
 * Batched generation: prompts are left-padded to one length, the prompt is run once filling
 * the KV cache, then each step feeds only the newest token per row. Rows stop at an EOS
 * token (it is kept in the output); stopped rows feed padding that nothing attends to.
 */
export interface GenerateOptions extends TokenSampling {
  maxNewTokens: number;
  seed: number;
  eosIds: number[];
  padId: number;
  /** Recompute the whole sequence each step instead of using the cache (for comparison). */
  noCache?: boolean;
  /** Called after each step with the token drawn for each row (-1 for rows already done). */
  onToken?: (step: number, tokens: number[]) => void;
  /** Awaited between steps; throw from it to cancel (the worker yields and checks there). */
  checkpoint?: () => Promise<void>;
}

export interface GeneratedTokens {
  /** New tokens per row, EOS included when reached. */
  tokens: number[][];
  /** Whether each row reached EOS. */
  finished: boolean[];
}

export function leftPad(prompts: number[][], padId: number): { ids: number[][]; mask: number[][] } {
  const length = Math.max(...prompts.map((p) => p.length));
  return {
    ids: prompts.map((p) => [...new Array<number>(length - p.length).fill(padId), ...p]),
    mask: prompts.map((p) => [
      ...new Array<number>(length - p.length).fill(0),
      ...new Array<number>(p.length).fill(1),
    ]),
  };
}

/** Last-position logits [B, V] for a full sequence; with `cache`, also the filled cache. */
export function runFull(model: LlamaModel, ids: number[][], mask: number[][], wantCache: boolean) {
  return tf.tidy(() => {
    const out = model.forward(batchInputs(ids, mask), wantCache);
    const t = ids[0]!.length;
    const last = tf.squeeze(tf.slice(out.hidden, [0, t - 1, 0], [-1, 1, -1]), [1]); // [B, d]
    const logits = tf.squeeze(
      model.logits(tf.expandDims(last, 1) as tf.Tensor3D),
      [1],
    ) as tf.Tensor2D; // [B, V]
    return { logits, keys: out.cache?.keys ?? [], values: out.cache?.values ?? [] };
  });
}

/** Logits [B, V] for one new token per row, extending `cache`. */
export function runStep(
  model: LlamaModel,
  tokens: number[],
  positions: number[],
  mask: number[][],
  cache: KvCache,
) {
  return tf.tidy(() => {
    const out = model.forward(
      {
        ids: tf.tensor2d(tokens, [tokens.length, 1], 'int32'),
        keyMask: tf.tensor2d(mask),
        positions: tf.tensor2d(positions, [positions.length, 1], 'int32'),
        cache,
      },
      true,
    );
    const logits = tf.squeeze(model.logits(out.hidden), [1]) as tf.Tensor2D; // [B, V]
    return { logits, keys: out.cache!.keys, values: out.cache!.values };
  });
}

export function generate(
  model: LlamaModel,
  prompts: number[][],
  opts: GenerateOptions,
): Promise<GeneratedTokens> {
  return model.withFrozenWeights(() => generateWith(model, prompts, opts));
}

async function generateWith(
  model: LlamaModel,
  prompts: number[][],
  opts: GenerateOptions,
): Promise<GeneratedTokens> {
  const longest = Math.max(...prompts.map((p) => p.length));
  const context = model.config.max_position_embeddings;
  if (longest + opts.maxNewTokens > context)
    throw new Error(
      `A prompt of ${longest} tokens plus ${opts.maxNewTokens} new tokens exceeds the model's context of ${context} tokens.`,
    );
  const rng = new Rng(opts.seed);
  const batch = prompts.length;
  const { ids, mask } = leftPad(prompts, opts.padId);
  const tokens: number[][] = prompts.map(() => []);
  const finished = prompts.map(() => false);
  const nextPosition = prompts.map((p) => p.length);
  let cache: KvCache | undefined;
  let logits: tf.Tensor2D | undefined;
  try {
    for (let step = 0; step < opts.maxNewTokens && !finished.every(Boolean); step++) {
      if (step === 0 || opts.noCache) {
        const full = runFull(model, ids, mask, !opts.noCache);
        logits = full.logits;
        if (!opts.noCache) cache = { keys: full.keys, values: full.values, length: ids[0]!.length };
      }
      const rows = (await logits!.data()) as Float32Array; // [B * V]
      const vocab = rows.length / batch;
      const bad = rows.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        throw new Error(
          `The model's next-token scores became ${rows[bad]} (answer ${Math.floor(bad / vocab) + 1}, token ${step + 1}): its weights or its config (rope_theta, rms_norm_eps) are broken, so it cannot answer.`,
        );
      const drawn = finished.map((done, b) =>
        done ? -1 : sampleToken(rows.subarray(b * vocab, (b + 1) * vocab), opts, rng),
      );
      drawn.forEach((token, b) => {
        if (token < 0) return;
        tokens[b]!.push(token);
        if (opts.eosIds.includes(token)) finished[b] = true;
      });
      opts.onToken?.(step, drawn);
      await opts.checkpoint?.();
      if (finished.every(Boolean) || step + 1 >= opts.maxNewTokens) break;

      // Append this step's token (padding for rows already done) and compute the next logits.
      const fed = drawn.map((t) => (t < 0 ? opts.padId : t));
      ids.forEach((row, b) => row.push(fed[b]!));
      mask.forEach((row, b) => row.push(drawn[b]! < 0 ? 0 : 1));
      if (!opts.noCache) {
        const positions = drawn.map((_, b) => nextPosition[b]!);
        const next = runStep(model, fed, positions, mask, cache!);
        logits!.dispose();
        disposeCache(cache);
        logits = next.logits;
        cache = { keys: next.keys, values: next.values, length: cache!.length + 1 };
      } else logits!.dispose();
      drawn.forEach((t, b) => t >= 0 && nextPosition[b]!++);
    }
  } finally {
    logits?.dispose();
    disposeCache(cache);
  }
  return { tokens, finished };
}
