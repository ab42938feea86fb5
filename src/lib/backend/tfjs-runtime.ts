import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { BackendName } from '../domain/backend.ts';
import type { GpuHandle } from './gpu-adapter.ts';
import { tfjsWasmFiles } from './wasm-assets.ts';

/**
 * Owns tfjs's backends inside the engine worker: self-hosted WASM files with a thread per
 * core, and a WebGPU backend built on an adapter we inspect ourselves, so that the adapter the
 * choice reports is the one that runs, and its device can be watched for loss.
 */

/** Called once, with the lost device's reason, when the WebGPU device goes away. */
export type DeviceLostListener = (reason: string) => void;

let wasmConfigured = false;
/** Real core count while the `hardwareConcurrency` override is in place, else null. */
let wasmCores: number | null = null;

/** Points tfjs at this app's own WASM files and asks for one thread per core. */
function configureWasm(): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  setWasmPaths(tfjsWasmFiles);
  if (!globalThis.crossOriginIsolated) return; // no SharedArrayBuffer: single-threaded build
  const cores = Math.max(1, navigator.hardwareConcurrency);
  setThreadsCount(cores);
  // tfjs's WASM core caps its XNNPACK pool at half of `hardwareConcurrency` whatever it is
  // asked for, so a 2-core laptop would get one thread. It reads the value once, while the
  // backend starts; reporting twice the cores to it then lets the pool have one per core.
  Object.defineProperty(navigator, 'hardwareConcurrency', {
    configurable: true,
    get: () => cores * 2,
  });
  wasmCores = cores;
}

/** Threads in the WASM backend's pool, or null before it is initialised. */
export function wasmThreads(): number | null {
  // Not tf.findBackend('wasm'): it would initialise the backend, before its paths are set.
  try {
    return getThreadsCount();
  } catch {
    return null; // "WASM backend not initialized"
  }
}

/**
 * Registers the webgpu backend on `gpu`'s adapter (replacing tfjs's own registration), and
 * reports device loss to `onLost`.
 */
export function registerWebGpu(gpu: GpuHandle, onLost: DeviceLostListener): void {
  tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const limits = gpu.adapter.limits;
      const device = await gpu.adapter.requestDevice({
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      void device.lost.then((info) => onLost(info.message || info.reason || 'unknown reason'));
      return new WebGPUBackend(device, gpu.adapter.info);
    },
    3,
  );
}

/** The active WebGPU device, when webgpu is the active backend. */
export function activeGpuDevice(): GPUDevice | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as WebGPUBackend).device : null;
}

/** Makes `name` the active backend; throws a readable error when it cannot start. */
export async function activate(name: BackendName): Promise<void> {
  if (name === 'wasm') configureWasm();
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new Error(`${name} backend failed to start: ${String(error)}`);
  } finally {
    if (name === 'wasm' && wasmCores !== null) {
      // The pool exists now: give the rest of the worker the true core count back.
      delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
      wasmCores = null;
    }
  }
  if (!ok) throw new Error(`${name} backend failed to start`);
  await tf.ready();
}

/** Forgets a broken backend so tfjs never hands it out again. */
export function forget(name: BackendName): void {
  try {
    tf.removeBackend(name);
  } catch {
    // never registered: nothing to forget
  }
}
