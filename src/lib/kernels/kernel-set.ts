import * as tf from '@tensorflow/tfjs-core';
import { defaultKernelSet, kernelSetNames, type KernelSetName } from '../domain/backend.ts';

/** The engine's kernel set (domain/kernels.ts), one per worker: read by every model call. */

let chosen: KernelSetName = defaultKernelSet;

export function setKernelSet(set: KernelSetName): void {
  if (!kernelSetNames.includes(set))
    throw new Error(`Unknown kernel set "${String(set)}": use ${kernelSetNames.join(' or ')}.`);
  chosen = set;
}

export const kernelSet = (): KernelSetName => chosen;

/** Whether the fused kernels run now: chosen, and the active backend is WebGPU. */
export const fusedKernels = (): boolean => chosen === 'fused' && tf.getBackend() === 'webgpu';

/** Runs `work` with `set` chosen, then restores the previous choice (checks and benches). */
export async function withKernelSet<T>(set: KernelSetName, work: () => Promise<T>): Promise<T> {
  const before = chosen;
  setKernelSet(set);
  try {
    return await work();
  } finally {
    chosen = before;
  }
}

/**
 * An op with its own gradient when a tape records (training), the plain forward otherwise
 * (generation, scoring): `tf.customGrad`'s wrapper is pure cost without a tape. `forward`
 * returns its value and the tensors the backward reads (intermediates of a gradient's forward
 * are freed before its backward runs, so whatever it needs is saved); `backward` returns one
 * gradient per input. Saved tensors are views of tensors the caller owns, not new ones.
 */
export function withGradient<T extends tf.Tensor>(
  inputs: tf.Tensor[],
  forward: () => { value: T; saved: tf.Tensor[] },
  backward: (dy: T, saved: tf.Tensor[]) => tf.Tensor[],
): T {
  if (!tf.engine().isTapeOn()) return forward().value;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, saved } = forward();
    save(saved);
    return { value, gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => backward(dy as T, kept) };
  });
  return op(...inputs) as T;
}
