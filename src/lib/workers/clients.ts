import type { EngineRequest, EngineResults, FeedbackRequest, FeedbackResults } from './protocol.ts';
import { WorkerClient } from './worker-client.ts';

export type EngineClient = WorkerClient<EngineRequest, EngineResults>;
export type FeedbackClient = WorkerClient<FeedbackRequest, FeedbackResults>;

/** Starts the engine worker (tfjs) and returns its client. */
export function startEngine(): EngineClient {
  const spawn = () =>
    new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  return new WorkerClient(spawn, 'engine');
}

/**
 * Starts the feedback worker (transformers.js) and returns its client. A failed `load` gets
 * a fresh worker: transformers.js chains every ONNX session creation on one promise, so after
 * one model fails to load (a damaged file, say) every later load in that worker would fail too.
 */
export function startFeedback(): FeedbackClient {
  const spawn = () =>
    new Worker(new URL('./feedback.worker.ts', import.meta.url), {
      type: 'module',
      name: 'feedback',
    });
  return new WorkerClient(spawn, 'feedback', (type) => type === 'load');
}
