/**
 * The engine's set-up and diagnostic requests: choosing the backend and its kernels, the
 * kernel and backend cross-checks, the benches behind `npm run bench`, tensor memory, and a
 * simulated device loss (the recovery tests).
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossCheck } from '../../backend/cross-check.ts';
import { benchConfig, benchKernels } from '../../backend/kernel-bench.ts';
import { kernelCheck } from '../../backend/kernel-check.ts';
import { runMatmulBench } from '../../backend/matmul-bench.ts';
import { PolicySession } from '../../model/generation/policy-session.ts';
import { activate } from '../../backend/tfjs-runtime.ts';
import { benchTrainStep } from '../../backend/train-bench.ts';
import { backendNames, type BackendName, type TrainBenchRow } from '../../domain/backend.ts';
import { describeError } from '../../domain/errors.ts';
import { modelSourceOrThrow } from '../../domain/model-id.ts';
import { cancellationPoint } from '../serve.ts';
import type { EngineContext, HandlerGroup } from './engine-context.ts';

type Diagnostics =
  | 'init'
  | 'setKernels'
  | 'kernelCheck'
  | 'kernelBench'
  | 'crossCheck'
  | 'matmulBench'
  | 'trainBench'
  | 'memory'
  | 'loseDevice';

export function diagnosticsHandlers({
  backends,
  models,
}: EngineContext): HandlerGroup<Diagnostics> {
  return {
    init: async (request, ctx) => {
      if (request.backend !== 'auto' && !backendNames.includes(request.backend))
        throw new Error(
          `"${String(request.backend)}" is not a backend: use auto, ${backendNames.join(', ')}.`,
        );
      return backends.init(
        request.backend,
        (message) => ctx.emit({ status: 'loading', message }),
        request.kernels,
      );
    },
    setKernels: async (request) => backends.setKernels(request.kernels),
    kernelCheck: (request) =>
      backends.run(() => kernelCheck(backends.current.backend, activate, request)),
    kernelBench: async (request, ctx) => {
      const chosen = backends.current.backend;
      try {
        const rows = await benchKernels(
          await benchConfig(request),
          request.backends,
          request.shape,
          {
            activate,
            onProgress: (done, total, message) =>
              ctx.emit({ status: 'progress', done, total, message }),
            shouldStop: () => cancellationPoint(ctx.signal),
          },
        );
        return { rows };
      } finally {
        await activate(chosen);
      }
    },
    crossCheck: (request) =>
      backends.run(() =>
        crossCheck(backends.current.backend, activate, request.size, request.steps, request.seed),
      ),
    matmulBench: (request, ctx) =>
      runMatmulBench(request, backends.current.backend, {
        activate,
        onProgress: (done, total, message) =>
          ctx.emit({ status: 'progress', done, total, message }),
        shouldStop: () => cancellationPoint(ctx.signal),
      }),
    trainBench: async (request, ctx) => {
      const config =
        models.loadedBase()?.config ??
        (request.model && modelSourceOrThrow(request.model) === 'local'
          ? await PolicySession.readConfig(`/models/${request.model}/`)
          : models.base().config);
      const chosen = backends.current.backend as BackendName;
      const rows: TrainBenchRow[] = [];
      const skipped: { backend: BackendName; reason: string }[] = [];
      const total = request.backends.length * request.shapes.length;
      try {
        for (const backend of request.backends) {
          try {
            await activate(backend);
          } catch (error) {
            skipped.push({ backend, reason: describeError(error) });
            continue;
          }
          for (const { batch, seq } of request.shapes) {
            ctx.emit({
              status: 'progress',
              done: rows.length,
              total,
              message: `training step, ${backend}, batch ${batch} × ${seq} tokens`,
            });
            rows.push(
              await benchTrainStep(backend, config, batch, seq, request.steps, request.warmup, () =>
                cancellationPoint(ctx.signal),
              ),
            );
          }
        }
      } finally {
        await activate(chosen);
      }
      return { rows, skipped };
    },
    memory: async () => {
      const { numTensors, numBytes } = tf.memory();
      return { backend: backends.current.backend, numTensors, numBytes };
    },
    loseDevice: async (request) => ({ hadDevice: backends.loseDevice(request.delayMs) }),
  };
}
