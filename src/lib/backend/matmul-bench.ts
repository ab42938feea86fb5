import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, MatmulBenchResult, MatmulBenchRow } from '../domain/backend.ts';
import { probeBackend } from './probe.ts';
import { uniformArray } from './reference.ts';
import { mulberry32 } from '../util/random.ts';

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** GFLOP/s of an n x n x n matmul (2n³ floating-point operations) done in `ms`. */
export function matmulGflops(n: number, ms: number): number {
  return (2 * n ** 3) / (ms * 1e6);
}

/**
 * Times `reps` square matmuls of size `n` on the active backend after one warm-up. Each rep
 * ends by reading one element of the product, which waits for the whole matmul without
 * paying for a full readback. `shouldStop` is polled between reps.
 */
export async function benchMatmul(
  backend: BackendName,
  n: number,
  reps: number,
  shouldStop: () => Promise<void>,
): Promise<MatmulBenchRow> {
  const rand = mulberry32(n);
  const a = tf.tensor2d(uniformArray(rand, n * n), [n, n]);
  const b = tf.tensor2d(uniformArray(rand, n * n), [n, n]);
  const once = async () => {
    const start = performance.now();
    const corner = tf.tidy(() => tf.slice(tf.matMul(a, b), [0, 0], [1, 1])); // [1, 1]
    await corner.data();
    corner.dispose();
    return performance.now() - start;
  };
  try {
    await once(); // warm-up: shader compilation, buffer allocation
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      await shouldStop();
      times.push(await once());
    }
    const ms = median(times);
    return { backend, size: n, medianMs: ms, gflops: matmulGflops(n, ms), reps };
  } finally {
    tf.dispose([a, b]);
  }
}

export interface BenchHooks {
  activate: (name: BackendName) => Promise<void>;
  onProgress: (done: number, total: number, message: string) => void;
  /** Resolves between steps, or rejects to stop the benchmark (cancellation). */
  shouldStop: () => Promise<void>;
}

/**
 * The benchmark behind `npm run bench`: on each requested backend, the start-up probe and
 * square matmuls of each size. Restores the `chosen` backend at the end, even when stopped.
 */
export async function runMatmulBench(
  request: { sizes: number[]; reps: number; backends: BackendName[] },
  chosen: BackendName,
  hooks: BenchHooks,
): Promise<MatmulBenchResult> {
  const result: MatmulBenchResult = { rows: [], probes: [], skipped: [] };
  const total = request.backends.length * request.sizes.length;
  let done = 0;
  try {
    for (const backend of request.backends) {
      await hooks.shouldStop();
      hooks.onProgress(done, total, `probing ${backend}`);
      const probe = await probeBackend(backend, hooks.activate);
      result.probes.push(probe);
      if (!probe.available) {
        result.skipped.push({ backend, reason: probe.reason });
        done += request.sizes.length;
        continue;
      }
      for (const size of request.sizes) {
        hooks.onProgress(done, total, `${backend} ${size}×${size}`);
        result.rows.push(await benchMatmul(backend, size, request.reps, hooks.shouldStop));
        done++;
      }
    }
  } finally {
    await hooks.activate(chosen);
  }
  return result;
}
