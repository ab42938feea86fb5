import * as tf from '@tensorflow/tfjs-core';
import { frozenProduct, matMul } from '../../ops/matmul.ts';
import { linear, productPlus } from './layers.ts';
import type { DecoderKernels } from './kernels.ts';
import type { TransposeCache } from './transposes.ts';

/**
 * The products of a decoder layer's projections (llama.ts adds biases and adapters): one
 * weight's, with the residual stream folded in where that pays, and several weights' joined
 * into one product (q, k, v; gate, up).
 */

/**
 * x [N, in] · wᵀ for a weight w [out, in] (`transposed`: wᵀ cached for generation; `frozen`: a
 * base under LoRA, no weight gradient). With `residual` [N, out], a kernel set that folds it
 * (`ways`, kernels.ts) and no tape (generation, scoring), the product adds it itself (tfjs's
 * fused matMul, the residual as its bias: one dispatch less per block); `folded` says so.
 */
export function weightProduct(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  transposed: tf.Tensor2D | undefined,
  frozen: boolean,
  ways: DecoderKernels['projections'],
  residual?: tf.Tensor2D,
): { y: tf.Tensor2D; folded: boolean } {
  if (residual && ways.foldResidual && !tf.engine().isTapeOn())
    return { y: productPlus(x, transposed ?? weight, residual, !transposed), folded: true };
  const y = frozen ? frozenProduct(x, weight) : (linear(x, weight, transposed) as tf.Tensor2D);
  return { y, folded: false };
}

/**
 * x [N, in] by weights [out_i, in] stacked, as one product, where the kernel set joins them
 * (`ways`, kernels.ts). In generation (with `readInPlace`): the joined rows [N, Σ out], read in place by the kernels, the weights
 * stacked and transposed once (transposes.ts). In training: the parts split from the joined
 * rows, one product forward and two backward instead of three and six. Null otherwise.
 */
export function joinedProduct(
  x: tf.Tensor2D,
  weights: tf.Tensor2D[],
  transposes: TransposeCache,
  readInPlace: boolean,
  ways: DecoderKernels['projections'],
): { joined: tf.Tensor2D } | { parts: tf.Tensor2D[] } | null {
  if (tf.engine().isTapeOn()) {
    if (!ways.joinInTraining) return null;
    const rows = matMul(x, tf.concat(weights, 0), false, true); // [N, Σ out]
    const widths = weights.map((w) => w.shape[0]);
    return { parts: tf.split(rows, widths, 1) };
  }
  const stacked = ways.joinInGeneration && readInPlace ? transposes.joined(weights) : undefined; // [in, Σ out]
  return stacked ? { joined: matMul(x, stacked) } : null;
}
