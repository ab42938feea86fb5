import { env } from '@huggingface/transformers';
import { findGpu } from '../backend/gpu-adapter.ts';
import type { FeedbackDevice, FeedbackReport } from '../domain/backend.ts';
import { ortWasmFiles } from './ort-assets.ts';
import { configureTransformersEnv } from './transformers-env.ts';

/**
 * Sets up transformers.js inside the feedback worker, then makes the same honest device
 * choice as the engine: WebGPU only on a real GPU adapter, never on a software one, unless
 * `preference` forces a device (WebGPU then needs an adapter, software or not).
 */
export async function initFeedbackRuntime(
  preference: FeedbackDevice | 'auto' = 'auto',
): Promise<FeedbackReport> {
  const env = configureTransformersEnv();
  const wasm = env.backends.onnx.wasm!;

  const gpu = await findGpu();
  let device: FeedbackReport['device'] = 'wasm';
  let reason: string;
  if (preference === 'webgpu' && typeof gpu === 'string')
    throw new Error(`The feedback model cannot be forced onto WebGPU: ${gpu}.`);
  if (preference === 'wasm') reason = 'WASM (forced)';
  else if (preference === 'webgpu') {
    device = 'webgpu';
    reason = 'WebGPU (forced)';
  } else if (typeof gpu === 'string') reason = `WASM: ${gpu}`;
  else if (gpu.info.isFallbackAdapter)
    reason = `WASM: the WebGPU adapter (${gpu.info.vendor} ${gpu.info.architecture}) is a software fallback, slower than WASM`;
  else {
    device = 'webgpu';
    reason = `WebGPU on ${gpu.info.vendor} ${gpu.info.architecture}`.trim();
  }
  return {
    device,
    reason,
    adapter: typeof gpu === 'string' ? null : gpu.info,
    transformersVersion: env.version,
    wasmUrls: [
      new URL(ortWasmFiles.wasm, self.location.href).href,
      new URL(ortWasmFiles.mjs, self.location.href).href,
    ],
    wasmThreads: wasm.numThreads ?? 1,
    crossOriginIsolated: globalThis.crossOriginIsolated,
  };
}

/** ONNX Runtime's WebGPU device, once a WebGPU session exists (ask only then: before, the
 * promise waits for one). */
export async function ortWebGpuDevice(): Promise<GPUDevice | null> {
  const webgpu = env.backends.onnx.webgpu as
    { device?: Promise<GPUDevice> | GPUDevice } | undefined;
  return (await webgpu?.device) ?? null;
}
