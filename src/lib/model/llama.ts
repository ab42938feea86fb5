import * as tf from '@tensorflow/tfjs-core';
import { parameterShapes, type LlamaConfig } from './config.ts';
import {
  applyRope,
  attention,
  attentionBias,
  embed,
  linear,
  mergeHeads,
  rmsNorm,
  ropeAt,
  ropeTables,
  splitHeads,
  swiGlu,
} from './layers.ts';

/**
 * A Llama-architecture causal language model in tfjs: token embedding, N decoder blocks
 * (RMSNorm, grouped-query attention with rotary positions, RMSNorm, SwiGLU), final RMSNorm,
 * and an output head tied to the embedding (or HF's lm_head when untied). Read it top to
 * bottom: `forward` is the whole model.
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
  /** Each matrix weight transposed, by variable id, while `withFrozenWeights` runs. */
  private transposed: Map<number, tf.Tensor2D> | null = null;

  constructor(
    readonly config: LlamaConfig,
    weights: Map<string, tf.Tensor>,
  ) {
    this.params = new Map();
    const id = ++modelCount;
    for (const [name, shape] of parameterShapes(config)) {
      const w = weights.get(name);
      if (!w) throw new Error(`Missing weight "${name}".`);
      if (w.shape.join() !== shape.join())
        throw new Error(`Weight "${name}" has shape [${w.shape}], expected [${shape}].`);
      this.params.set(name, tf.variable(w, true, `llama${id}/${name}`));
    }
    this.rope = ropeTables(config.max_position_embeddings, config.head_dim, config.rope_theta);
  }

  /** A freshly initialised model: normal(0, initializer_range) weights, norms at one. */
  static init(config: LlamaConfig, seed: number): LlamaModel {
    const weights = new Map<string, tf.Tensor>();
    let n = 0;
    for (const [name, shape] of parameterShapes(config))
      weights.set(
        name,
        shape.length === 1
          ? tf.ones(shape)
          : tf.randomNormal(shape, 0, config.initializer_range, 'float32', seed + n++),
      );
    const model = new LlamaModel(config, weights);
    tf.dispose([...weights.values()]);
    return model;
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`No parameter "${name}".`);
    return v;
  }

  /**
   * Runs `work` (generation: many forward passes, no training) with every matrix weight
   * transposed once up front instead of at every pass. The weights must not change meanwhile.
   */
  async withFrozenWeights<T>(work: () => Promise<T>): Promise<T> {
    if (this.transposed) return work();
    this.transposed = new Map();
    for (const v of this.params.values())
      if (v.rank === 2) this.transposed.set(v.id, tf.transpose(v as tf.Tensor2D));
    try {
      return await work();
    } finally {
      tf.dispose([...this.transposed.values()]);
      this.transposed = null;
    }
  }

  /** A weight's transpose from `withFrozenWeights`, when no gradient is being recorded. */
  private transposedOf(weight: tf.Tensor2D): tf.Tensor2D | undefined {
    return this.transposed && !tf.engine().isTapeOn() ? this.transposed.get(weight.id) : undefined;
  }

  /** Runs the decoder. Inside `tf.tidy` for inference; directly under a gradient for training. */
  forward(input: ForwardInput, wantCache = false): ForwardOutput {
    const c = this.config;
    const past = input.cache?.length ?? 0;
    const newTokens = input.ids.shape[1];
    const bias = attentionBias(input.keyMask, past, newTokens); // [B, 1, T, S]
    const batch = input.ids.shape[0];
    const table = this.p('model.embed_tokens.weight') as tf.Tensor2D;
    // Activations stay 2D, [B·T, d], between the attention's head splits.
    let h: tf.Tensor = tf.reshape(embed(table, input.ids), [-1, c.hidden_size]); // [B·T, d]
    const angles = ropeAt(this.rope, input.positions); // cos, sin [B, 1, T, hd]
    const t = (weight: tf.Tensor2D) => this.transposedOf(weight);
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];

    for (let i = 0; i < c.num_hidden_layers; i++) {
      const w = (n: string) => this.p(`model.layers.${i}.${n}`) as tf.Tensor2D;
      // 1. Attention block: pre-norm, rotary q and k, attend over cached + new keys.
      const x = rmsNorm(h, w('input_layernorm.weight') as unknown as tf.Tensor1D, c.rms_norm_eps);
      const q = applyRope(
        splitHeads(
          linear(x, w('self_attn.q_proj.weight'), t(w('self_attn.q_proj.weight'))) as tf.Tensor2D,
          batch,
          c.num_attention_heads,
          c.head_dim,
        ),
        angles,
      ); // [B, H, T, hd]
      let k = applyRope(
        splitHeads(
          linear(x, w('self_attn.k_proj.weight'), t(w('self_attn.k_proj.weight'))) as tf.Tensor2D,
          batch,
          c.num_key_value_heads,
          c.head_dim,
        ),
        angles,
      ); // [B, kvH, T, hd]
      let v = splitHeads(
        linear(x, w('self_attn.v_proj.weight'), t(w('self_attn.v_proj.weight'))) as tf.Tensor2D,
        batch,
        c.num_key_value_heads,
        c.head_dim,
      ); // [B, kvH, T, hd]
      if (input.cache) {
        k = tf.concat([input.cache.keys[i]!, k], 2); // [B, kvH, S, hd]
        v = tf.concat([input.cache.values[i]!, v], 2);
      }
      keys.push(k);
      values.push(v);
      const attended = attention(q, k, v, bias); // [B, H, T, hd]
      h = tf.add(
        h,
        linear(mergeHeads(attended), w('self_attn.o_proj.weight'), t(w('self_attn.o_proj.weight'))),
      );
      // 2. Feed-forward block: pre-norm, SwiGLU.
      const y = rmsNorm(
        h,
        w('post_attention_layernorm.weight') as unknown as tf.Tensor1D,
        c.rms_norm_eps,
      );
      h = tf.add(
        h,
        swiGlu(y, w('mlp.gate_proj.weight'), w('mlp.up_proj.weight'), w('mlp.down_proj.weight'), t),
      );
    }
    const hidden = tf.reshape(
      rmsNorm(h, this.p('model.norm.weight') as unknown as tf.Tensor1D, c.rms_norm_eps),
      [batch, newTokens, c.hidden_size],
    ) as tf.Tensor3D; // [B, T, d]
    const out: ForwardOutput = { hidden };
    if (wantCache) out.cache = { keys, values, length: past + newTokens };
    return out;
  }

  /** Next-token logits [B, T, V] from hidden states [B, T, d]. */
  logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const head = this.config.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    const weight = this.p(head) as tf.Tensor2D;
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

/**
 * Inputs for a left-padded batch [B, T] given its mask: positions count real tokens only,
 * so a row's first real token is at position 0 however much padding precedes it.
 */
export function positionsFromMask(mask: number[][]): number[][] {
  return mask.map((row) => {
    let p = -1;
    return row.map((m) => (m ? ++p : 0));
  });
}
