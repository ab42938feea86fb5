import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type { ReplyEvent } from '../workers/protocol.ts';
import type { Call } from '../workers/worker-client.ts';
import type { OnTrainEvent } from '../domain/train-events.ts';
import { critiqueForRevision } from '../world/feedback-texts.ts';
import { speaksTinyWorld } from '../world/model-names.ts';
import type { Ports } from './ports.ts';

/** Waits for a worker call; an abort of `signal` cancels the request in the worker. */
export async function cancellable<T>(call: Call<T>, signal: AbortSignal): Promise<T> {
  const stop = () => call.cancel();
  signal.addEventListener('abort', stop);
  try {
    return await call.result;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Hands a trainer's events on as they came. */
const trainEvents = (onEvent: OnTrainEvent) => (e: ReplyEvent) => {
  if (e.status === 'train') onEvent(e.event);
};

/**
 * The stages' ports over the two workers: the policy in the engine, feedback in the other.
 * A revision quotes the tiny world's critiques by their conclusions (the world's wording);
 * any other feedback model's critique is quoted whole.
 */
export function workerPorts(
  engine: EngineClient,
  feedback: FeedbackClient,
  feedbackModel: string,
): Ports {
  return {
    policy: {
      generate: async (policy, prompts, settings, onText, signal) => {
        const call = engine.call({ type: 'generate', prompts, settings, policy }, (e) => {
          if (e.status === 'token') onText(e.index, e.text);
        });
        return (await cancellable(call, signal)).texts;
      },
      sft: (train, heldOut, config, seed, onEvent, signal) =>
        cancellable(
          engine.call({ type: 'sft', train, heldOut, config, seed }, trainEvents(onEvent)),
          signal,
        ),
      reward: (train, heldOut, config, seed, onEvent, signal) =>
        cancellable(
          engine.call({ type: 'reward', train, heldOut, config, seed }, trainEvents(onEvent)),
          signal,
        ),
      rewardScores: async (items, signal) =>
        (await cancellable(engine.call({ type: 'rewardScore', items }), signal)).scores,
      ppo: (prompts, config, seed, onEvent, signal) =>
        cancellable(
          engine.call({ type: 'ppo', prompts, config, seed }, trainEvents(onEvent)),
          signal,
        ),
      dpo: (train, heldOut, config, seed, onEvent, signal) =>
        cancellable(
          engine.call({ type: 'dpo', train, heldOut, config, seed }, trainEvents(onEvent)),
          signal,
        ),
      groupRl: (prompts, method, seed, onEvent, signal) =>
        cancellable(
          engine.call({ type: 'groupRl', prompts, method, seed }, trainEvents(onEvent)),
          signal,
        ),
    },
    feedback: {
      generate: async (prompt, settings, onText, signal) => {
        const call = feedback.call({ type: 'generate', prompt, settings }, (e) => {
          if (e.status === 'token') onText(e.text);
        });
        return (await cancellable(call, signal)).text;
      },
      scoreContinuations: async (prompt, options, signal) =>
        (await cancellable(feedback.call({ type: 'score', prompt, options }), signal)).logprobs,
      quoteCritique: speaksTinyWorld(feedbackModel)
        ? critiqueForRevision
        : (_, critique) => critique.trim(),
    },
  };
}
