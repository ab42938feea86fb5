import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../domain/backend.ts';
import type { PolicyInfo } from '../../domain/policy.ts';
import { batchInputs } from '../architecture/layers.ts';
import type { TrainedPolicy } from '../adapters/adapter-policy.ts';
import type { PolicySession } from './policy-session.ts';
import { continuationLogprobs } from './score.ts';

/** Facts about the loaded policy, for the UI. */
export function policyInfo(session: PolicySession): PolicyInfo {
  const c = session.config;
  return {
    id: session.id,
    parameters: session.parameters,
    vocabSize: c.vocab_size,
    layers: c.num_hidden_layers,
    hidden: c.hidden_size,
    contextLength: c.max_position_embeddings,
    backend: tf.getBackend() as BackendName,
  };
}

/** Logits [T, V] of the policy over `text` (one row, no padding). */
export async function forwardLogits(session: PolicySession, text: string) {
  const ids = session.tokenizer.encode(text);
  const model = session.current();
  const logits = tf.tidy(() => {
    const mask = [ids.map(() => 1)];
    const { hidden } = model.forward(batchInputs([ids], mask));
    return model.logits(hidden);
  });
  const data = await logits.data();
  logits.dispose();
  return {
    logits: Array.from(data),
    tokens: ids.length,
    vocab: session.config.vocab_size,
    backend: tf.getBackend() as BackendName,
  };
}

/** Total log-probability of each option as the policy's answer to a user message. */
export async function scoreOptions(
  session: TrainedPolicy,
  prompt: string,
  options: string[],
): Promise<{ logprobs: number[] }> {
  const tok = session.tokenizer;
  const ids = tok.encode(tok.chat(prompt));
  const pairs = options.map((o) => ({ prompt: ids, continuation: tok.encode(o) }));
  return { logprobs: await continuationLogprobs(session.current(), pairs) };
}
