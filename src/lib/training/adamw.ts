import * as tf from '@tensorflow/tfjs-core';
import { kernelsNow } from '../model/architecture/kernels.ts';

/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, on tfjs variables.
 * Written out rather than tf.train.adam so the learning rate can follow a schedule and the
 * gradient norm is reported, as trainers log it.
 */
export interface AdamWConfig {
  beta1: number; // default 0.9
  beta2: number; // default 0.95 (language-model training)
  epsilon: number; // default 1e-8
  /** Decoupled weight decay per unit learning rate; applied to matrices only. */
  weightDecay: number; // default 0.01
  /** Gradients are scaled down when their global L2 norm exceeds this. */
  maxGradNorm: number; // default 1.0
}

export const defaultAdamW: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-8,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
};

export class AdamW {
  private step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    readonly config: AdamWConfig = defaultAdamW,
  ) {
    for (const [name, p] of params) {
      // tidy: the zero tensors a variable starts from are disposed (the variable keeps the data).
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /**
   * Applies one update from `grads` (disposed here) at learning rate `lr`; returns the global
   * gradient norm before clipping, as a scalar tensor the caller reads and disposes.
   */
  apply(grads: Map<string, tf.Tensor>, lr: number): tf.Scalar {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay, maxGradNorm } = this.config;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    const kernels = kernelsNow(); // stock tfjs ops or the fused WebGPU update, for the whole step
    const norm = tf.tidy(() =>
      tf.reshape(tf.sqrt(sumAll([...grads.values()].map((g) => kernels.sumSquares(g)))), []),
    ) as tf.Scalar;
    tf.tidy(() => {
      const scale = tf.reshape(tf.minimum(1, tf.div(maxGradNorm, tf.add(norm, 1e-6))), [1]); // clip factor [1]
      for (const [name, p] of this.params) {
        const grad = grads.get(name);
        if (!grad) continue;
        const decay = p.rank > 1 ? weightDecay : 0; // matrices only
        const step = { beta1, beta2, epsilon, lr, c1, c2, weightDecay: decay };
        kernels.adamwUpdate(
          p,
          this.m.get(name)!,
          this.v.get(name)!,
          grad,
          scale as tf.Tensor1D,
          step,
        );
      }
    });
    tf.dispose([...grads.values()]);
    return norm;
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
  }
}

/** Linear warm-up to `peak`, then cosine decay to `peak * floor` at `total` steps. */
export function warmupCosine(
  step: number,
  total: number,
  warmup: number,
  peak: number,
  floor = 0.1,
): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * The sum of same-shape tensors, added at most 7 at a time: a WebGPU kernel may bind only 8
 * storage buffers on common adapters (7 inputs and its output), and tfjs's addN of more fails
 * there with a validation error and a garbage result.
 */
function sumAll(xs: tf.Tensor[]): tf.Tensor {
  let level = xs;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 7) {
      const group = level.slice(i, i + 7);
      next.push(group.length === 1 ? group[0]! : tf.addN(group));
    }
    level = next;
  }
  return level[0]!;
}
