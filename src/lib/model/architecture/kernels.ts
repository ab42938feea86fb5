import * as tf from '@tensorflow/tfjs-core';
import type { KernelSetName } from '../../domain/backend.ts';
import { fusedAdamWUpdate, fusedSumSquares, type AdamWStep } from '../../kernels/adamw-update.ts';
import { fusedKernels } from '../../kernels/kernel-set.ts';
import { fusedRmsNorm } from '../../kernels/rms-norm.ts';
import { fusedSwiglu, fusedSwigluJoined } from '../../kernels/swiglu.ts';
import { fusedAttend, fusedStep, stockAttend, stockStep } from './attend.ts';
import { rmsNorm, swiglu } from './layers.ts';

/**
 * The decoder's kernels: one implementation of each op the model and its optimizer run, picked
 * once per forward pass or optimizer step (`kernelsNow`). The stock set is tfjs's own ops on any
 * backend; the fused set is the WGSL kernels of kernels/ on WebGPU. Nothing under the model reads
 * the kernel-set switch itself: a forward pass hands its set to every block.
 */
export interface DecoderKernels {
  readonly name: KernelSetName;
  /** RMSNorm over the last axis: x [..., n] by weight [n]. */
  rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor;
  /** SwiGLU's gate, silu(gate) · up, for gate and up [N, m]. */
  swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D;
  /** The same from one product's rows [N, 2m], gate then up, read in place (fused only). */
  swigluJoined(joined: tf.Tensor2D): tf.Tensor2D;
  /** What every block of one pass shares: the mask and rotary angles (or positions). */
  step: typeof stockStep;
  /** Attention from the q, k, v projections to the attended rows (attend.ts). */
  attend: typeof stockAttend;
  /**
   * Projections (projections.ts): whether generation adds the residual inside the product,
   * reads q/k/v and gate/up as one product's rows, and training joins them into one product.
   */
  readonly projections: {
    foldResidual: boolean;
    joinInGeneration: boolean;
    joinInTraining: boolean;
  };
  /** Whether the output head's log p(target) is the fused kernel (ops/head-logprobs.ts). */
  readonly fusedLogprobs: boolean;
  /** Σ g² of one gradient, a [1] or [] tensor (AdamW's global norm). */
  sumSquares(g: tf.Tensor): tf.Tensor;
  /** One AdamW update of p, its moments m and v from `grad`, scaled by `scale` [1]. */
  adamwUpdate(
    p: tf.Variable,
    m: tf.Variable,
    v: tf.Variable,
    grad: tf.Tensor,
    scale: tf.Tensor1D,
    step: AdamWStep,
  ): void;
}

/** tfjs's ops, on any backend. */
export const stockKernels: DecoderKernels = {
  name: 'stock',
  rmsNorm,
  swiglu,
  swigluJoined: () => {
    throw new Error('Joined gate and up rows need the fused kernels.');
  },
  step: stockStep,
  attend: stockAttend,
  projections: { foldResidual: false, joinInGeneration: false, joinInTraining: false },
  fusedLogprobs: false,
  sumSquares: (g) => tf.sum(tf.square(g)),
  adamwUpdate(p, m, v, grad, scale, s) {
    const g = tf.mul(grad, scale);
    m.assign(tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1)));
    v.assign(tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2)));
    const update = tf.div(tf.div(m, s.c1), tf.add(tf.sqrt(tf.div(v, s.c2)), s.epsilon));
    const decay = s.weightDecay ? tf.mul(p, s.weightDecay) : tf.zerosLike(p);
    p.assign(tf.sub(p, tf.mul(tf.add(update, decay), s.lr)));
  },
};

/**
 * The fused WebGPU kernels. Joined projections: in generation, read in place (one product per
 * block instead of three and two); in training, one product forward and two backward instead of
 * three and six (a tiny-model step at 2 × 32 went 1.7 → 1.5 s, SwiftShader). The residual folds
 * into the product in generation only: under a gradient the fused product's backward measured
 * slower (a step 1.8 → 2.7 s).
 */
export const fusedKernelSet: DecoderKernels = {
  name: 'fused',
  // The kernel normalises rows [N, n]; Qwen3's per-head norms of 4D heads stay stock.
  rmsNorm: (x, weight, eps) =>
    x.rank === 2 ? fusedRmsNorm(x as tf.Tensor2D, weight, eps) : rmsNorm(x, weight, eps),
  swiglu: fusedSwiglu,
  swigluJoined: fusedSwigluJoined,
  step: fusedStep,
  attend: fusedAttend,
  projections: { foldResidual: true, joinInGeneration: true, joinInTraining: true },
  fusedLogprobs: true,
  sumSquares: fusedSumSquares,
  adamwUpdate: (p, m, v, grad, scale, step) => fusedAdamWUpdate(p, m, v, grad, scale, step),
};

/** The set chosen (kernels/kernel-set.ts) for the active backend: fused only on WebGPU. */
export const kernelsNow = (): DecoderKernels => (fusedKernels() ? fusedKernelSet : stockKernels);
