import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../../ops/matmul.ts';
import type { ModelConfig } from '../architecture/config.ts';
import { LlamaModel } from '../architecture/llama.ts';
import { batchInputs } from '../architecture/layers.ts';
import type { LoraAdapter } from './lora.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from '../checkpoints/safetensors.ts';
import {
  adapterFromPeftTensors,
  parsePeftConfig,
  peftConfigJson,
  peftConfigKey,
  peftTensors,
} from '../checkpoints/peft.ts';

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
   * A new model from a trunk's weights (copied, or the trunk itself with `own`) and a head: the given one (copied), or a new
   * one drawn from normal(0, 1 / sqrt(d + 1)), as TRL initialises its score head.
   */
  static from(source: LlamaModel, seed: number, head?: tf.Tensor, own = false): ScalarHeadModel {
    const trunk = own ? source : new LlamaModel(source.config, source.weights());
    return new ScalarHeadModel(
      trunk,
      ScalarHeadModel.newHead(source.config.hidden_size, seed, head),
    );
  }

  /**
   * A model from its checkpoint (`safetensors()`); a file that does not fit `config` throws.
   * An adapter checkpoint (adapter_config in its metadata) needs the frozen `base` it sits on.
   */
  static fromSafetensors(
    config: ModelConfig,
    bytes: Uint8Array,
    base?: LlamaModel,
  ): ScalarHeadModel {
    const { tensors, metadata } = readSafetensors(bytes);
    const peft = metadata[peftConfigKey];
    if (!peft !== !base)
      throw new Error(
        peft
          ? 'The reward checkpoint is a LoRA adapter, but the experiment fine-tunes whole models.'
          : 'The reward checkpoint is a whole model, but the experiment trains LoRA adapters.',
      );
    const head = tensors.get('score.weight');
    if (head?.shape.join() !== `1,${config.hidden_size}`)
      throw new Error('The reward checkpoint has no score head of the right shape.');
    const score = tf.tensor(head.data, head.shape, 'float32');
    try {
      if (peft && base) {
        const adapter = adapterFromPeftTensors(config, parsePeftConfig(peft), tensors, [
          'score.weight',
        ]);
        return ScalarHeadModel.onBase(base, adapter, 0, score);
      }
      const weights = new Map(
        [...tensors]
          .filter(([name]) => name !== 'score.weight')
          .map(([n, t]) => [n, tf.tensor(t.data, t.shape, 'float32')] as const),
      );
      try {
        return ScalarHeadModel.from(new LlamaModel(config, weights), 0, score, true);
      } finally {
        tf.dispose([...weights.values()]);
      }
    } finally {
      score.dispose();
    }
  }

  /** The weights (trunk or adapter, and head) as a safetensors file: the reward model's
   * checkpoint. An adapter is written by PEFT's names, with its adapter_config.json. */
  async safetensors(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const arrays = this.adapter ? await peftTensors(this.adapter) : new Map<string, NamedArray>();
    const own = this.adapter ? [['score.weight', this.score] as const] : [...this.params];
    for (const [name, v] of own)
      arrays.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
    const peft = this.adapter && { [peftConfigKey]: peftConfigJson(this.adapter.settings, '') };
    return writeSafetensors(arrays, { ...metadata, ...peft });
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
      const { hidden } = this.trunk.adapted(this.adapter).forward(batchInputs(ids, keyMask));
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
