import type { EngineRequest, EngineResults, FeedbackRequest, FeedbackResults } from './protocol.ts';
import { WorkerClient } from './worker-client.ts';

export type EngineClient = WorkerClient<EngineRequest, EngineResults>;
export type FeedbackClient = WorkerClient<FeedbackRequest, FeedbackResults>;

/** Starts the engine worker (tfjs) and returns its client. */
export function startEngine(): EngineClient {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), {
    type: 'module',
    name: 'engine',
  });
  return new WorkerClient(worker, 'engine');
}

/** Starts the feedback worker (transformers.js) and returns its client. */
export function startFeedback(): FeedbackClient {
  const worker = new Worker(new URL('./feedback.worker.ts', import.meta.url), {
    type: 'module',
    name: 'feedback',
  });
  return new WorkerClient(worker, 'feedback');
}
