import { env } from '@huggingface/transformers';
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

/** Where a model id points: a folder of this app's /models/, or a Hugging Face Hub repository. */
export function modelSource(id: string): 'local' | 'hub' {
  if (/^[\w.-]+$/.test(id)) return 'local';
  if (/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(id)) return 'hub';
  throw new Error(
    `"${id}" is neither a model folder name nor a Hugging Face id like "owner/name".`,
  );
}

/** Lets transformers.js read from exactly one source for the next load. */
export function useModelSource(source: 'local' | 'hub'): void {
  env.allowLocalModels = source === 'local';
  env.allowRemoteModels = source === 'hub';
}
