import * as tf from '@tensorflow/tfjs-core';
import { generate, type GenerateOptions } from '../model/generation/generate.ts';
import { type LlamaModel } from '../model/architecture/llama.ts';
import { batchInputs } from '../model/architecture/layers.ts';
import type { Rows } from '../ops/advantages.ts';

/**
 * A PPO rollout as tensors' rows: prompt + response sequences in next-token form, and the
 * small readbacks PPO's arithmetic (plain JS, rl/../ops/advantages.ts) works on.
 */

/** Prompt + response sequences of a rollout, as next-token rows [B, T] (right-padded). */
export interface Rollout {
  /** Inputs: each sequence without its last token. */
  ids: Rows;
  /** Targets: each sequence without its first token. */
  targets: Rows;
  keyMask: Rows;
  /** 1 where the target is a response token (the actions PPO scores and updates). */
  responseMask: Rows;
  /** Whole sequences and their mask [B, T + 1], for the reward model. */
  sequences: Rows;
  sequenceMask: Rows;
}

export function buildRollout(prompts: number[][], responses: number[][], padId: number): Rollout {
  const seqs = prompts.map((p, b) => [...p, ...responses[b]!]);
  const length = Math.max(...seqs.map((s) => s.length)); // T + 1
  const pad = (s: number[]) => [...s, ...new Array<number>(length - s.length).fill(padId)];
  const sequences = seqs.map(pad);
  const sequenceMask = seqs.map((s) => pad(s.map(() => 1)).map((x, i) => (i < s.length ? x : 0)));
  return {
    ids: sequences.map((s) => s.slice(0, -1)),
    targets: sequences.map((s) => s.slice(1)),
    keyMask: sequenceMask.map((m) => m.slice(0, -1)),
    // Target t is token t + 1: a response token when prompt length <= t + 1 < sequence length.
    responseMask: prompts.map((p, b) =>
      Array.from({ length: length - 1 }, (_, t) =>
        t + 1 >= p.length && t + 1 < seqs[b]!.length ? 1 : 0,
      ),
    ),
    sequences,
    sequenceMask,
  };
}

/** How an online method samples its answers, and the ids that end and pad them. */
export interface Sampling {
  responseLength: number;
  temperature: number;
  eos: number[];
  pad: number;
}

/**
 * Samples one answer per prompt row (pure sampling at the temperature, with the KV cache)
 * and lays the prompts and answers out as a rollout; also whether each answer ended.
 */
export async function sampleRollout(
  policy: LlamaModel,
  prompts: number[][],
  s: Sampling,
  seed: number,
  checkpoint?: () => Promise<void>,
  onToken?: GenerateOptions['onToken'],
): Promise<{ r: Rollout; tokens: number[][]; finished: boolean[] }> {
  const rolled = await generate(policy, prompts, {
    maxNewTokens: s.responseLength,
    temperature: s.temperature,
    topK: 0,
    topP: 1,
    seed,
    eosIds: s.eos,
    padId: s.pad,
    checkpoint,
    onToken,
  });
  return {
    r: buildRollout(prompts, rolled.tokens, s.pad),
    tokens: rolled.tokens,
    finished: rolled.finished,
  };
}

/**
 * The final hidden states [B, T, D] scaled so that the bias-free head gives logits / T:
 * log-probs at the temperature the rollout was sampled at, as TRL computes them.
 */
export function tempered(hidden: tf.Tensor3D, temperature: number): tf.Tensor3D {
  return temperature === 1 ? hidden : tf.div(hidden, temperature);
}

/** Log-probs of the targets under a model at `temperature`, [B, T] (no gradient). */
export async function logprobsOf(model: LlamaModel, r: Rollout, temperature = 1): Promise<Rows> {
  const out = tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(r.ids, r.keyMask));
    const targets = tf.tensor2d(r.targets, undefined, 'int32');
    return model.tokenLogprobs(tempered(hidden, temperature), targets).logprobs;
  });
  const rows = (await out.array()) as Rows;
  out.dispose();
  return rows;
}

export async function read(t: tf.Tensor): Promise<Rows | number[]> {
  const v = (await t.array()) as Rows | number[];
  t.dispose();
  return v;
}

export const rowSum = (x: Rows, mask: Rows) =>
  x.map((row, b) => row.reduce((s, v, t) => s + (mask[b]![t] ? v : 0), 0));
export const mean = (x: number[]) => (x.length ? x.reduce((a, b) => a + b, 0) / x.length : 0);
