import * as tf from '@tensorflow/tfjs-core';

/**
 * How many bytes of transposed weights generation may keep: all of a tiny model's (a measured
 * speed-up on WASM), none beyond that for a real one, whose weights are then read in place by
 * a product that transposes the activations instead (ops/matmul.ts).
 */
const transposeBudgetBytes = 64 * 2 ** 20;

/** Weights transposed on first use while generation runs, by variable ids, within the budget. */
export class TransposeCache {
  private map: Map<string, tf.Tensor2D> | null = null;
  private bytes = 0;

  constructor(private readonly enabled: boolean) {}

  /** Runs `work` with the cache open; frees every transpose after it. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    if (this.map) return work();
    this.map = new Map();
    this.bytes = 0;
    try {
      return await work();
    } finally {
      tf.dispose([...this.map.values()]);
      this.map = null;
    }
  }

  /** A weight's transpose inside `during`, when no gradient is being recorded. */
  of(weight: tf.Tensor2D): tf.Tensor2D | undefined {
    return this.cached(String(weight.id), [weight]);
  }

  /**
   * Weights [out_i, in] stacked and transposed, [in, Σ out_i], inside `during` (no gradient):
   * one product then computes several projections of the same input (q, k, v; gate, up).
   */
  joined(weights: tf.Tensor2D[]): tf.Tensor2D | undefined {
    return this.cached(weights.map((w) => w.id).join('+'), weights);
  }

  private cached(key: string, weights: tf.Tensor2D[]): tf.Tensor2D | undefined {
    if (!this.map || !this.enabled || tf.engine().isTapeOn()) return undefined;
    const done = this.map.get(key);
    if (done) return done;
    const bytes = weights.reduce((sum, w) => sum + w.size * 4, 0);
    if (this.bytes + bytes > transposeBudgetBytes) return undefined;
    this.bytes += bytes;
    const t = tf.keep(
      tf.tidy(() => tf.transpose(weights.length === 1 ? weights[0]! : tf.concat(weights, 0))),
    );
    this.map.set(key, t);
    return t;
  }
}
