import * as tf from '@tensorflow/tfjs-core';
import { type ModelConfig } from './config.ts';
import { biasedProjections, checkWeightShapes, parameterShapes } from './parameters.ts';
import { embed, linear, ropeTables } from './layers.ts';
import { DecoderBlocks, type LayerWeights } from './decoder-blocks.ts';
import { kernelsNow } from './kernels.ts';
import { headLogprobs } from '../../ops/head-logprobs.ts';
import type { LoraAdapter } from '../adapters/lora.ts';
import { ropeFrequencies } from './rope-scaling.ts';
import { TransposeCache } from './transposes.ts';

/**
 * A Llama-family causal language model in tfjs: token embedding, N decoder blocks (RMSNorm,
 * grouped-query attention with rotary positions, RMSNorm, SwiGLU), final RMSNorm, and an output
 * head tied to the embedding (or HF's lm_head when untied). Qwen2 adds q/k/v biases, Qwen3 a
 * per-head RMSNorm of q and k before the rotation (config.ts says which). A LoRA adapter, when
 * attached, adds its update to each targeted projection. Read it top to bottom: `forward` is
 * the whole model.
 */

/** Keys and values of every layer for the positions seen so far: [B, kvH, S, hd] each. */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** Key positions cached so far (S). */
  length: number;
}

export interface ForwardInput {
  /** Token ids [B, T] (int32). */
  ids: tf.Tensor2D;
  /** 1 for real tokens, 0 for padding, over all S = past + T key positions [B, S]. */
  keyMask: tf.Tensor2D;
  /** Position of each new token [B, T] (int32): left padding shifts them per row. */
  positions: tf.Tensor2D;
  /** Keys and values of earlier positions; omitted for a full forward pass. */
  cache?: KvCache;
}

export interface ForwardOutput {
  /** Final hidden states [B, T, d] (after the last norm): reward and value heads read these. */
  hidden: tf.Tensor3D;
  /** Cache including the new positions (only when `wantCache`). */
  cache?: KvCache;
}

/** Numbers models, so variable names stay unique when several models live together. */
let modelCount = 0;

export class LlamaModel {
  readonly params: Map<string, tf.Variable>;
  private readonly rope: { cos: tf.Tensor2D; sin: tf.Tensor2D };
  /** Matrix weights transposed for generation (none for a frozen base). */
  private readonly transposes: TransposeCache;
  private readonly biased: Set<string>;
  /** The LoRA adapter in use (null: the base model, e.g. PPO's reference). */
  adapter: LoraAdapter | null = null;

  /** Exactly the config's weights (checkWeightShapes); `frozen`: a base under LoRA adapters. */
  constructor(
    readonly config: ModelConfig,
    weights: Map<string, tf.Tensor>,
    readonly frozen = false,
  ) {
    this.params = new Map();
    const id = ++modelCount;
    const stored = new Map([...weights].map(([name, w]) => [name, w.shape] as const));
    checkWeightShapes(config, stored, 'The checkpoint');
    for (const name of parameterShapes(config).keys())
      this.params.set(name, tf.variable(weights.get(name)!, !frozen, `llama${id}/${name}`));
    this.biased = new Set(biasedProjections(config));
    this.transposes = new TransposeCache(!frozen);
    const freqs = ropeFrequencies(config.head_dim, config.rope_theta, config.rope_scaling);
    this.rope = ropeTables(config.max_position_embeddings, freqs);
  }

  /** What a training step updates: the adapter's weights when one is attached, else all. */
  trainable(): Map<string, tf.Variable> {
    if (this.adapter) return this.adapter.named();
    if (this.frozen) throw new Error('This base model is frozen: attach a LoRA adapter to train.');
    return this.params;
  }

  /**
   * This model with `adapter` attached (null: the base alone, e.g. PPO's reference): a view
   * sharing every tensor, so one frozen base serves several adapters. Disposing a view frees
   * nothing; the base's owner disposes the base.
   */
  adapted(adapter: LoraAdapter | null): LlamaModel {
    const view = Object.create(this) as LlamaModel;
    view.adapter = adapter;
    view.dispose = () => {};
    return view;
  }

  /** A freshly initialised model: normal(0, initializer_range) weights, norms at one. */
  static init(config: ModelConfig, seed: number, frozen = false): LlamaModel {
    const weights = new Map<string, tf.Tensor>();
    let n = 0;
    for (const [name, shape] of parameterShapes(config))
      weights.set(
        name,
        shape.length === 1
          ? tf.ones(shape)
          : tf.randomNormal(shape, 0, config.initializer_range, 'float32', seed + n++),
      );
    const model = new LlamaModel(config, weights, frozen);
    tf.dispose([...weights.values()]);
    return model;
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`No parameter "${name}".`);
    return v;
  }

  /**
   * Runs `work` (generation: many forward passes, no training) with matrix weights transposed
   * on first use instead of at every pass (transposes.ts). The weights must not change meanwhile.
   */
  withFrozenWeights<T>(work: () => Promise<T>): Promise<T> {
    return this.transposes.during(work);
  }

  private transposedOf = (weight: tf.Tensor2D) => this.transposes.of(weight);

  /** What the blocks read (this view's adapter included: a view shares everything else). */
  private layerWeights(): LayerWeights {
    return {
      config: this.config,
      param: (name) => this.p(name),
      biased: this.biased,
      frozen: this.frozen,
      adapter: this.adapter,
      transposes: this.transposes,
    };
  }

  /** Runs the decoder. Inside `tf.tidy` for inference; directly under a gradient for training. */
  forward(input: ForwardInput, wantCache = false): ForwardOutput {
    const c = this.config;
    const past = input.cache?.length ?? 0;
    const [batch, newTokens] = input.ids.shape;
    // Stock tfjs ops or the fused WebGPU kernels, picked once for the whole pass (kernels.ts).
    const kernels = kernelsNow();
    const step = kernels.step(this.rope, input, past);
    const blocks = new DecoderBlocks(this.layerWeights(), kernels);
    const table = this.p('model.embed_tokens.weight') as tf.Tensor2D;
    // Activations stay 2D, [B·T, d], between the attention's head splits.
    let h: tf.Tensor2D = tf.reshape(embed(table, input.ids), [-1, c.hidden_size]); // [B·T, d]
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const past = input.cache && { k: input.cache.keys[i]!, v: input.cache.values[i]! };
      const attended = blocks.attention(i, h, step, past);
      h = blocks.mlp(i, attended.h); // [B·T, d]
      const { k, v } = attended;
      keys.push(k);
      values.push(v);
    }
    const finalNorm = this.p('model.norm.weight') as unknown as tf.Tensor1D;
    const normed = kernels.rmsNorm(h, finalNorm, c.rms_norm_eps); // [B·T, d]
    const hidden = tf.reshape(normed, [batch, newTokens, c.hidden_size]) as tf.Tensor3D; // [B, T, d]
    const out: ForwardOutput = { hidden };
    if (wantCache) out.cache = { keys, values, length: past + newTokens };
    return out;
  }

  /** The output head [V, d]: the embedding when tied, else HF's lm_head. */
  headWeight(): tf.Tensor2D {
    const head = this.config.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    return this.p(head) as tf.Tensor2D;
  }

  /**
   * log p(target) at each position [B, T] from hidden states [B, T, d] and targets [B, T], in
   * chunks of positions (ops/head-logprobs.ts: no [B·T, V] tensor kept for the backward);
   * with `entropy`, also each position's entropy [B, T] (no gradient; the caller frees it).
   */
  tokenLogprobs(
    hidden: tf.Tensor3D,
    targets: tf.Tensor2D,
    entropy = false,
  ): { logprobs: tf.Tensor2D; entropy?: tf.Tensor2D } {
    const [b, t, d] = hidden.shape;
    const out = headLogprobs(
      tf.reshape(hidden, [b * t, d]),
      this.headWeight(),
      tf.reshape(targets, [b * t]),
      { trainHead: !this.frozen && !this.adapter, entropy, fused: kernelsNow().fusedLogprobs },
    );
    const logprobs = tf.reshape(out.logprobs, [b, t]) as tf.Tensor2D;
    if (!out.entropy) return { logprobs };
    const perToken = tf.reshape(out.entropy, [b, t]) as tf.Tensor2D;
    out.entropy.dispose();
    return { logprobs, entropy: tf.keep(perToken) };
  }

  /** Next-token logits [B, T, V] from hidden states [B, T, d]. */
  logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const weight = this.headWeight();
    return linear(hidden, weight, this.transposedOf(weight)) as tf.Tensor3D;
  }

  /** Weights as plain tensors keyed by HF name (views of the variables: do not dispose). */
  weights(): Map<string, tf.Tensor> {
    return new Map(this.params);
  }

  dispose(): void {
    tf.dispose([...this.params.values(), this.rope.cos, this.rope.sin]);
  }
}

/** Frees a cache's tensors. */
export function disposeCache(cache: KvCache | undefined): void {
  if (cache) tf.dispose([...cache.keys, ...cache.values]);
}
