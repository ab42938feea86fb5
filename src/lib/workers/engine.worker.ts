/**
 * The engine worker: owns tfjs and (in later stages) every trained model. A thin table of
 * handlers over pure functions in src/lib/backend; see protocol.ts for the messages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendManager } from '../backend/backend-manager.ts';
import { crossCheck } from '../backend/cross-check.ts';
import { runMatmulBench } from '../backend/matmul-bench.ts';
import { activate } from '../backend/tfjs-runtime.ts';
import type { EngineRequest, EngineResults } from './protocol.ts';
import { cancellationPoint, serveRequests, type Port } from './serve.ts';

const port = self as unknown as Port;
const backends = new BackendManager((report) =>
  port.postMessage({ id: 0, status: 'ready', backend: report }),
);

serveRequests<EngineRequest, EngineResults>(port, {
  init: async (request, ctx) =>
    backends.init(request.backend, (message) => ctx.emit({ status: 'loading', message })),
  crossCheck: (request) =>
    backends.run(() =>
      crossCheck(backends.current.backend, activate, request.size, request.steps, request.seed),
    ),
  matmulBench: (request, ctx) =>
    runMatmulBench(request, backends.current.backend, {
      activate,
      onProgress: (done, total, message) => ctx.emit({ status: 'progress', done, total, message }),
      shouldStop: () => cancellationPoint(ctx.signal),
    }),
  memory: async () => {
    const { numTensors, numBytes } = tf.memory();
    return { backend: backends.current.backend, numTensors, numBytes };
  },
  loseDevice: async (request) => ({ hadDevice: backends.loseDevice(request.delayMs) }),
});
