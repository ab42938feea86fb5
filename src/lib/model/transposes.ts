import * as tf from '@tensorflow/tfjs-core';

/**
 * How many bytes of transposed weights generation may keep: all of a tiny model's (a measured
 * speed-up on WASM), none beyond that for a real one, whose weights are then read in place by
 * a product that transposes the activations instead (ops/matmul.ts).
 */
const transposeBudgetBytes = 64 * 2 ** 20;

/** Weights transposed on first use while generation runs, by variable id, within the budget. */
export class TransposeCache {
  private map: Map<number, tf.Tensor2D> | null = null;
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
    if (!this.map || !this.enabled || tf.engine().isTapeOn()) return undefined;
    const done = this.map.get(weight.id);
    if (done) return done;
    const bytes = weight.size * 4;
    if (this.bytes + bytes > transposeBudgetBytes) return undefined;
    this.bytes += bytes;
    const t = tf.keep(tf.transpose(weight));
    this.map.set(weight.id, t);
    return t;
  }
}
