import type { AdapterInfo } from '../domain/backend.ts';

/** WebGPU adapter discovery, shared by both workers (no tfjs, no transformers.js here). */

export interface GpuHandle {
  adapter: GPUAdapter;
  info: AdapterInfo;
}

/** Reads the facts a student (and the backend choice) needs from a WebGPU adapter. */
export function describeAdapter(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
    features: [...adapter.features].sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}

/** The WebGPU adapter, or a sentence saying why there is none. */
export async function findGpu(): Promise<GpuHandle | string> {
  if (!('gpu' in navigator) || !navigator.gpu) return 'this browser has no WebGPU (navigator.gpu)';
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return 'the browser offers no WebGPU adapter';
    return { adapter, info: describeAdapter(adapter) };
  } catch (error) {
    return `requesting a WebGPU adapter failed: ${String(error)}`;
  }
}
