import { env } from '@huggingface/transformers';
import type { ModelSource } from '../domain/model-id.ts';
import { checkHubEndpoint, defaultHubEndpoint } from '../model/checkpoints/hub.ts';
import { ortWasmFiles } from './ort-assets.ts';

/**
 * transformers.js settings for a worker of this app: models from this origin's /models/
 * folder only (a Hub download happens only through code a user starts by hand), ONNX
 * Runtime's WASM from this origin, one thread per core when the page is isolated.
 */
export function configureTransformersEnv(): typeof env {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/models/';
  const wasm = env.backends.onnx.wasm;
  if (!wasm) throw new Error('transformers.js has no ONNX Runtime WASM settings.');
  wasm.wasmPaths = ortWasmFiles;
  wasm.numThreads = globalThis.crossOriginIsolated ? navigator.hardwareConcurrency : 1;
  return env;
}

/** Lets transformers.js read from exactly one source for the next load: this app's
 * /models/, or the Hub at `endpoint` (a mirror, or a stand-in Hub in tests). */
export function useModelSource(source: ModelSource, endpoint = defaultHubEndpoint): void {
  env.allowLocalModels = source === 'local';
  env.allowRemoteModels = source === 'hub';
  env.remoteHost = checkHubEndpoint(endpoint) + '/';
}
