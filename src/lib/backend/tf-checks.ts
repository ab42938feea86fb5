import * as tf from '@tensorflow/tfjs-core';
import { checkAdam, mlpParamOrder, type AdamConfig, type MlpProblem } from './reference.ts';

/**
 * The same computations as reference.ts, on whatever tfjs backend is active. Used by the
 * start-up probe (correctness and timing), the CPU cross-check and the benchmark.
 * Async reads only (`data()`), so WebGPU never blocks on a synchronous readback.
 */

/** a [m, k] x b [k, n] on the active backend, read back whole. */
export async function matmulOnBackend(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Promise<Float32Array> {
  const ta = tf.tensor2d(a, [m, k]);
  const tb = tf.tensor2d(b, [k, n]);
  const product = tf.matMul(ta, tb); // [m, n]
  try {
    return (await product.data()) as Float32Array;
  } finally {
    tf.dispose([ta, tb, product]);
  }
}

/** A tfjs MLP with Adam, built from a problem; `step()` trains once and returns the loss. */
export class TfMlp {
  private readonly x: tf.Tensor2D; // [n, d]
  private readonly t: tf.Tensor2D; // [n, 1]
  private readonly vars: Record<(typeof mlpParamOrder)[number], tf.Variable>;
  private readonly optimizer: tf.AdamOptimizer;

  constructor(prob: MlpProblem, cfg: AdamConfig = checkAdam) {
    this.x = tf.tensor2d(prob.x, [prob.n, prob.d]);
    this.t = tf.tensor2d(prob.t, [prob.n, 1]);
    // tidy disposes the initial tensors; the variables (copies) survive it.
    this.vars = tf.tidy(() => ({
      w1: tf.variable(tf.tensor2d(prob.w1, [prob.d, prob.h])),
      b1: tf.variable(tf.tensor1d(prob.b1)),
      w2: tf.variable(tf.tensor2d(prob.w2, [prob.h, 1])),
      b2: tf.variable(tf.tensor1d(prob.b2)),
    }));
    this.optimizer = tf.train.adam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  }

  private loss(): tf.Scalar {
    const { w1, b1, w2, b2 } = this.vars;
    const hidden = tf.tanh(tf.add(tf.matMul(this.x, w1), b1)); // [n, h]
    const y = tf.add(tf.matMul(hidden, w2), b2); // [n, 1]
    return tf.mean(tf.squaredDifference(y, this.t));
  }

  /** One Adam step; resolves to the loss before the step. */
  async step(): Promise<number> {
    const loss = this.optimizer.minimize(() => this.loss(), true);
    if (!loss) throw new Error('The optimizer returned no loss.');
    try {
      return (await loss.data())[0]!;
    } finally {
      loss.dispose();
    }
  }

  async weights(): Promise<number[]> {
    const parts = await Promise.all(mlpParamOrder.map((k) => this.vars[k].data()));
    return parts.flatMap((p) => Array.from(p));
  }

  dispose(): void {
    tf.dispose([this.x, this.t, ...Object.values(this.vars)]);
    this.optimizer.dispose();
  }
}

/** Trains `steps` Adam steps on the active backend: losses before each step, final weights. */
export async function trainMlpOnBackend(
  prob: MlpProblem,
  steps: number,
): Promise<{ losses: number[]; weights: number[] }> {
  const mlp = new TfMlp(prob);
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) losses.push(await mlp.step());
    return { losses, weights: await mlp.weights() };
  } finally {
    mlp.dispose();
  }
}
