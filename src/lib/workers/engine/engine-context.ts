/**
 * What every group of the engine's request handlers shares: the backend manager and the
 * models the engine holds, and `trainJob`, the one wrapper every trainer runs in.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendManager } from '../../backend/backend-manager.ts';
import type { BackendName } from '../../domain/backend.ts';
import type { TrainHooks } from '../../domain/train-events.ts';
import type { EngineRequest, EngineResults } from '../protocol.ts';
import { cancellationPoint, type Handlers, type RequestContext } from '../serve.ts';
import type { EnginePolicies } from '../engine-policies.ts';

export interface EngineContext {
  backends: BackendManager;
  /** The loaded policy, what is trained from it, and the reward model. */
  models: EnginePolicies;
}

/** A group of the engine's handlers: those of the request types `K`. */
export type HandlerGroup<K extends EngineRequest['type']> = Pick<
  Handlers<EngineRequest, EngineResults>,
  K
>;

/**
 * Runs one training job on the active backend: its events go out as `train` replies, a
 * cancel stops it at the trainer's next checkpoint, and a device lost mid-run retries it
 * (`run` reads the trained weights back before it returns). With the job's seconds, backend
 * and peak tensor bytes.
 */
export async function trainJob<T>(
  engine: EngineContext,
  ctx: RequestContext,
  run: (hooks: TrainHooks) => Promise<T>,
): Promise<{ result: T; seconds: number; backend: BackendName; peakBytes: number }> {
  const start = performance.now();
  // The engine's tensor bytes, sampled at every checkpoint the trainer passes (between its
  // steps and minibatches): what the models, optimizer states and kept tensors hold at once.
  let peakBytes = tf.memory().numBytes;
  const hooks: TrainHooks = {
    onEvent: (event) => ctx.emit({ status: 'train', event }),
    checkpoint: () => {
      peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      return cancellationPoint(ctx.signal);
    },
  };
  const result = await engine.backends.run(() => run(hooks));
  return {
    result,
    seconds: (performance.now() - start) / 1000,
    backend: engine.backends.current.backend as BackendName,
    peakBytes,
  };
}
