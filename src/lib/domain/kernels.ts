/** Shared shapes of the kernel checks and the kernel bench (kernels/, backend/). */

/**
 * Which kernels the engine runs on WebGPU: `fused` (src/lib/kernels/: one WGSL dispatch where
 * tfjs's stock ops take several) or `stock` (tfjs's own ops only, the reference every fused
 * kernel is checked against). Other backends always run stock ops.
 */
export const kernelSetNames = ['fused', 'stock'] as const;
export type KernelSetName = (typeof kernelSetNames)[number];
export const defaultKernelSet: KernelSetName = 'fused';

/** One fused kernel's output (or one gradient of it) against tfjs's stock ops on the CPU. */
export interface KernelCheckRow {
  /** The op checked, e.g. "attention" or "rmsnorm". */
  kernel: string;
  /** The shapes it ran at: "tiny" (models/tiny-cai) or "smollm2-layer" (one SmolLM2-135M layer). */
  shape: string;
  /** "value", or the gradient checked ("d q", "d w", …). */
  output: string;
  maxAbsDiff: number;
  /** Largest magnitude of the CPU's values: the tolerance scales with it. */
  scale: number;
  ok: boolean;
}

export interface KernelCheckResult {
  backend: string;
  kernels: KernelSetName;
  rows: KernelCheckRow[];
  ok: boolean;
}

/** A row of `npm run bench -- --only kernels --json FILE`'s `kernels` list (field names fixed). */
export interface KernelBenchRow {
  backend: 'webgpu' | 'wasm' | 'cpu';
  kernels: KernelSetName;
  step: 'train' | 'decode';
  /** GPU dispatches on WebGPU; kernel calls (tf.profile, shape-only kernels left out) elsewhere. */
  dispatches: number;
  /** Median milliseconds of one step, its result read back. */
  ms: number;
}

/** The sizes of the kernel bench's two steps. */
export interface KernelBenchShape {
  /** Training step: `batch` sequences of `seq` tokens. */
  train: { batch: number; seq: number };
  /** Decode step: `batch` rows, one new token each after `past` cached positions. */
  decode: { batch: number; past: number };
  /** Timed repetitions after one warm-up. */
  reps: number;
}
