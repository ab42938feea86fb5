import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../ops/matmul.ts';
import type { ModelConfig } from './config.ts';
import { LlamaModel } from './llama.ts';
import { batchInputs } from './layers.ts';
import type { LoraAdapter } from './lora.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors.ts';

/** Numbers heads, so variable names stay unique. */
let headCount = 0;

/**
 * A Llama trunk with a scalar head, as HF's LlamaForSequenceClassification with one label
 * (`score.weight` [1, d], no bias): the reward model reads the head at each sequence's last
 * real token; the PPO value model reads it at every token. The LM head is not used.
 * Either the trunk is its own (full fine-tuning) or it is a frozen base shared with other
 * models, and this model trains only its own LoRA adapter and head (`onBase`).
 */
export class ScalarHeadModel {
  /** What trains: the trunk and head, or the adapter and head. */
  readonly params: Map<string, tf.Variable>;

  private constructor(
    readonly trunk: LlamaModel,
    readonly score: tf.Variable, // [1, d]
    readonly adapter: LoraAdapter | null = null,
  ) {
    const body = adapter ? adapter.named() : trunk.params;
    this.params = new Map([...body, ['score.weight', score]]);
  }

  private static newHead(d: number, seed: number, head?: tf.Tensor): tf.Variable {
    const init = head ?? tf.randomNormal([1, d], 0, 1 / Math.sqrt(d + 1), 'float32', seed);
    const score = tf.variable(init, true, `score${++headCount}`);
    if (!head) init.dispose();
    return score;
  }

  /**
   * A model on a shared frozen `base` with its own `adapter` (kept and disposed by this
   * model) and a head: the given one (copied) or a new one, as in `from`.
   */
  static onBase(
    base: LlamaModel,
    adapter: LoraAdapter,
    seed: number,
    head?: tf.Tensor,
  ): ScalarHeadModel {
    return new ScalarHeadModel(
      base,
      ScalarHeadModel.newHead(base.config.hidden_size, seed, head),
      adapter,
    );
  }

  /**
   * A new model from a trunk's weights (copied) and a head: the given one (copied), or a new
   * one drawn from normal(0, 1 / sqrt(d + 1)), as TRL initialises its score head.
   */
  static from(source: LlamaModel, seed: number, head?: tf.Tensor): ScalarHeadModel {
    const trunk = new LlamaModel(source.config, source.weights());
    return new ScalarHeadModel(
      trunk,
      ScalarHeadModel.newHead(source.config.hidden_size, seed, head),
    );
  }

  /** A model from its checkpoint (`safetensors()`); a file that does not fit `config` throws. */
  static fromSafetensors(config: ModelConfig, bytes: Uint8Array): ScalarHeadModel {
    const { tensors } = readSafetensors(bytes);
    const weights = new Map(
      [...tensors].map(([n, t]) => [n, tf.tensor(t.data, t.shape, 'float32')] as const),
    );
    try {
      const head = weights.get('score.weight');
      if (head?.shape.join() !== `1,${config.hidden_size}`)
        throw new Error('The reward checkpoint has no score head of the right shape.');
      const trunk = new LlamaModel(
        config,
        new Map([...weights].filter(([name]) => name !== 'score.weight')),
      );
      return new ScalarHeadModel(trunk, tf.variable(head, true, `score${++headCount}`));
    } finally {
      tf.dispose([...weights.values()]);
    }
  }

  /** The weights (trunk and head) as a safetensors file: the reward model's checkpoint. */
  async safetensors(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const arrays = new Map<string, NamedArray>();
    for (const [name, v] of this.params)
      arrays.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
    return writeSafetensors(arrays, metadata);
  }

  /** A copy with the same weights (e.g. the value model, initialised from the reward model). */
  copy(seed: number): ScalarHeadModel {
    if (this.adapter)
      return ScalarHeadModel.onBase(this.trunk, this.adapter.copy(), seed, this.score);
    return ScalarHeadModel.from(this.trunk, seed, this.score);
  }

  /** The head at every position: ids [B, T], keyMask [B, T] → [B, T]. */
  values(ids: number[][], keyMask: number[][]): tf.Tensor2D {
    return tf.tidy(() => {
      const { hidden } = this.trunk.withAdapter(this.adapter, () =>
        this.trunk.forward(batchInputs(ids, keyMask)),
      );
      const [b, t, d] = hidden.shape;
      const flat = tf.reshape(hidden, [b * t, d]);
      return tf.reshape(matMul(flat, this.score as tf.Tensor2D, false, true), [
        b,
        t,
      ]) as tf.Tensor2D;
    });
  }

  /** The head at each row's last real token (right padding): → [B]. */
  scores(ids: number[][], keyMask: number[][]): tf.Tensor1D {
    const last = keyMask.map((row) => {
      const at = row.lastIndexOf(1);
      return row.map((_, t) => (t === at ? 1 : 0));
    });
    return tf.tidy(
      () => tf.sum(tf.mul(this.values(ids, keyMask), tf.tensor2d(last)), 1) as tf.Tensor1D,
    );
  }

  /** Frees this model's own weights: the trunk unless it is a shared base. */
  dispose(): void {
    if (this.adapter) this.adapter.dispose();
    else this.trunk.dispose();
    this.score.dispose();
  }
}
