import * as tf from '@tensorflow/tfjs-core';
import { fusedKernels } from '../kernels/kernel-set.ts';
import { frozenProduct, matMul } from '../ops/matmul.ts';
import { linear, productPlus } from './layers.ts';
import type { TransposeCache } from './transposes.ts';

/**
 * The products of a decoder layer's projections (llama.ts adds biases and adapters): one
 * weight's, with the residual stream folded in where that pays, and several weights' joined
 * into one product (q, k, v; gate, up).
 */

/**
 * x [N, in] · wᵀ for a weight w [out, in] (`transposed`: wᵀ cached for generation; `frozen`: a
 * base under LoRA, no weight gradient). With `residual` [N, out], the fused kernels and no tape
 * (generation, scoring), the product adds it itself (tfjs's fused matMul, the residual as its
 * bias: one dispatch less per block); `folded` says so. Not under a gradient: there the fused
 * product's backward measured slower (SwiftShader, tiny model, 2 × 32: a step 1.8 → 2.7 s).
 */
export function weightProduct(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  transposed: tf.Tensor2D | undefined,
  frozen: boolean,
  residual?: tf.Tensor2D,
): { y: tf.Tensor2D; folded: boolean } {
  if (residual && fusedKernels() && !tf.engine().isTapeOn())
    return { y: productPlus(x, transposed ?? weight, residual, !transposed), folded: true };
  const y = frozen ? frozenProduct(x, weight) : (linear(x, weight, transposed) as tf.Tensor2D);
  return { y, folded: false };
}

/**
 * Whether training computes joined projections as one product: with the fused kernels on
 * WebGPU, where a training step of the tiny model at 2 × 32 went from 1.7 s to 1.5 s
 * (SwiftShader). Not on WASM: measured there, 2 × 32 67 → 64 ms and 16 × 128 913 → 940 ms.
 */
const joinsInTraining = () => fusedKernels();

/**
 * x [N, in] by weights [out_i, in] stacked, as one product. In generation with the fused kernels
 * (and `readInPlace`): the joined rows [N, Σ out], read in place by the kernels, the weights
 * stacked and transposed once (transposes.ts). In training: the parts split from the joined
 * rows, one product forward and two backward instead of three and six. Null otherwise.
 */
export function joinedProduct(
  x: tf.Tensor2D,
  weights: tf.Tensor2D[],
  transposes: TransposeCache,
  readInPlace: boolean,
): { joined: tf.Tensor2D } | { parts: tf.Tensor2D[] } | null {
  if (tf.engine().isTapeOn()) {
    if (!joinsInTraining()) return null;
    const rows = matMul(x, tf.concat(weights, 0), false, true); // [N, Σ out]
    const widths = weights.map((w) => w.shape[0]);
    return { parts: tf.split(rows, widths, 1) };
  }
  const stacked = fusedKernels() && readInPlace ? transposes.joined(weights) : undefined; // [in, Σ out]
  return stacked ? { joined: matMul(x, stacked) } : null;
}
