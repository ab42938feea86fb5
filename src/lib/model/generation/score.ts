import * as tf from '@tensorflow/tfjs-core';
import { type LlamaModel } from '../architecture/llama.ts';
import { batchInputs } from '../architecture/layers.ts';

export interface ScorePair {
  prompt: number[];
  continuation: number[];
}

/**
 * Total log-probability of each continuation after its prompt, in one batched forward pass
 * (right-padded; padding is masked out of attention and of the sum).
 */
export async function continuationLogprobs(
  model: LlamaModel,
  pairs: ScorePair[],
): Promise<number[]> {
  const length = Math.max(...pairs.map((p) => p.prompt.length + p.continuation.length));
  const pad = model.config.pad_token_id;
  const ids: number[][] = [];
  const keyMask: number[][] = [];
  const targets: number[][] = [];
  const scoreMask: number[][] = [];
  for (const { prompt, continuation } of pairs) {
    const seq = [...prompt, ...continuation];
    const fill = length - seq.length;
    ids.push([...seq, ...new Array<number>(fill).fill(pad)]);
    keyMask.push([...seq.map(() => 1), ...new Array<number>(fill).fill(0)]);
    // Position t predicts token t + 1; count only predictions of continuation tokens.
    targets.push([...seq.slice(1), ...new Array<number>(fill + 1).fill(pad)]);
    scoreMask.push(
      Array.from({ length }, (_, t) => (t >= prompt.length - 1 && t < seq.length - 1 ? 1 : 0)),
    );
  }
  const totals = tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(ids, keyMask));
    const lp = model.tokenLogprobs(hidden, tf.tensor2d(targets, undefined, 'int32')).logprobs; // [B, T]
    return tf.sum(tf.mul(lp, tf.tensor2d(scoreMask)), 1); // [B]
  });
  const out = Array.from(await totals.data());
  totals.dispose();
  return out;
}
