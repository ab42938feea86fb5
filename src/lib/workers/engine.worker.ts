/**
 * The engine worker: owns tfjs and every model the engine trains. Its request handlers come
 * in groups by capability (engine/: diagnostics, model files, training, inference), each a
 * thin table over pure functions; protocol.ts lists the messages.
 */
import { BackendManager } from '../backend/backend-manager.ts';
import { EnginePolicies } from './engine-policies.ts';
import type { EngineContext } from './engine/engine-context.ts';
import { diagnosticsHandlers } from './engine/diagnostics-handlers.ts';
import { inferenceHandlers } from './engine/inference-handlers.ts';
import { modelFileHandlers } from './engine/model-file-handlers.ts';
import { trainingHandlers } from './engine/training-handlers.ts';
import type { EngineRequest, EngineResults } from './protocol.ts';
import { serveRequests, type Port } from './serve.ts';

const port = self as unknown as Port;
const engine: EngineContext = {
  backends: new BackendManager((report) =>
    port.postMessage({ id: 0, status: 'ready', backend: report }),
  ),
  models: new EnginePolicies(),
};

serveRequests<EngineRequest, EngineResults>(port, {
  ...diagnosticsHandlers(engine),
  ...modelFileHandlers(engine),
  ...trainingHandlers(engine),
  ...inferenceHandlers(engine),
});
