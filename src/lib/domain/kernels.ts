/** Shared shapes of the kernel checks and the kernel bench (kernels/, backend/). */

import type { BackendName, KernelSetName } from './backend.ts';

/** One fused kernel's output (or one gradient of it) against tfjs's stock ops on the CPU. */
export interface KernelCheckRow {
  /** The op checked, e.g. "attention" or "rmsnorm". */
  kernel: string;
  /** The shapes it ran at: "tiny" (models/tiny-cai) or "smollm2-layer" (one SmolLM2-135M layer). */
  shape: string;
  /** "value", or the gradient checked ("d q", "d w", …). */
  output: string;
  maxAbsDiff: number;
  /** Largest magnitude of the CPU's values. */
  scale: number;
  /** The largest difference allowed: float32 rounding, scaled by `scale` (kernelCheckLimit). */
  limit: number;
  ok: boolean;
}

export interface KernelCheckResult {
  backend: BackendName;
  kernels: KernelSetName;
  rows: KernelCheckRow[];
  ok: boolean;
}

/** A row of `npm run bench -- --only kernels --json FILE`'s `kernels` list (field names fixed). */
export interface KernelBenchRow {
  backend: BackendName;
  kernels: KernelSetName;
  step: 'train' | 'decode';
  /** GPU dispatches on WebGPU; kernel calls (tf.profile, shape-only kernels left out) elsewhere. */
  dispatches: number;
  /** Median milliseconds of one step, its result read back. */
  ms: number;
}

/** The sizes of the kernel bench's two steps. */
export interface KernelBenchShape {
  /** Training step: `batch` sequences of `seq` tokens (every weight trains); null: no training
   * rows (a model whose full fine-tune does not fit the backend). */
  train: { batch: number; seq: number } | null;
  /** Decode step: `batch` rows, one new token each after `past` cached positions. */
  decode: { batch: number; past: number };
  /** Timed repetitions of each kernel set, after a warm-up, the sets taken in turn. */
  reps: number;
}

/** The largest difference a kernel check accepts for values of magnitude up to `scale`. */
export const kernelCheckLimit = (scale: number) => 2e-4 * Math.max(1, scale);
