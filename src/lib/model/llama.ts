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

/** What every decoder block of one forward pass shares. */
interface BlockInput {
  batch: number;
  /** Additive attention mask [B, 1, T, S]: 0 where a query may attend, a large negative else. */
  bias: tf.Tensor4D;
  /** Rotary cos and sin at each position. */
  angles: ReturnType<typeof ropeAt>;
}

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
    const [batch, newTokens] = input.ids.shape;
    const step: BlockInput = {
      batch,
      bias: attentionBias(input.keyMask, past, newTokens), // [B, 1, T, S]
      angles: ropeAt(this.rope, input.positions), // cos, sin [B, 1, T, hd]
    };
    const table = this.p('model.embed_tokens.weight') as tf.Tensor2D;
    // Activations stay 2D, [B·T, d], between the attention's head splits.
    let h: tf.Tensor2D = tf.reshape(embed(table, input.ids), [-1, c.hidden_size]); // [B·T, d]
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const past = input.cache && { k: input.cache.keys[i]!, v: input.cache.values[i]! };
      const { out, k, v } = this.attentionBlock(i, h, step, past);
      h = tf.add(h, out); // [B·T, d]
      h = tf.add(h, this.mlpBlock(i, h)); // [B·T, d]
      keys.push(k);
      values.push(v);
    }
    const normed = rmsNorm(h, this.norm('model.norm.weight'), c.rms_norm_eps); // [B·T, d]
    const hidden = tf.reshape(normed, [batch, newTokens, c.hidden_size]) as tf.Tensor3D; // [B, T, d]
    const out: ForwardOutput = { hidden };
    if (wantCache) out.cache = { keys, values, length: past + newTokens };
    return out;
  }

  /** A projection of layer `i` ("self_attn.q_proj"): x [N, in] → [N, out]. */
  private project(i: number, name: string, x: tf.Tensor2D): tf.Tensor2D {
    const weight = this.p(`model.layers.${i}.${name}.weight`) as tf.Tensor2D;
    return linear(x, weight, this.transposedOf(weight)) as tf.Tensor2D;
  }

  private norm(name: string): tf.Tensor1D {
    return this.p(name) as unknown as tf.Tensor1D;
  }

  /**
   * Layer `i`'s attention: pre-norm, q/k/v projections, rotary q and k, attention over the
   * cached and new keys, output projection. Returns the residual update and the keys and
   * values (cache included) for the next cache.
   */
  private attentionBlock(
    i: number,
    h: tf.Tensor2D, // [B·T, d]
    step: BlockInput,
    past?: { k: tf.Tensor4D; v: tf.Tensor4D },
  ): { out: tf.Tensor2D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const c = this.config;
    const norm = this.norm(`model.layers.${i}.input_layernorm.weight`);
    const x = rmsNorm(h, norm, c.rms_norm_eps) as tf.Tensor2D; // [B·T, d]
    const heads = (name: string, n: number) =>
      splitHeads(this.project(i, `self_attn.${name}`, x), step.batch, n, c.head_dim);
    const q = applyRope(heads('q_proj', c.num_attention_heads), step.angles); // [B, H, T, hd]
    let k = applyRope(heads('k_proj', c.num_key_value_heads), step.angles); // [B, kvH, T, hd]
    let v = heads('v_proj', c.num_key_value_heads); // [B, kvH, T, hd]
    if (past) {
      k = tf.concat([past.k, k], 2); // [B, kvH, S, hd]
      v = tf.concat([past.v, v], 2);
    }
    const attended = attention(q, k, v, step.bias) as tf.Tensor4D; // [B, H, T, hd]
    return { out: this.project(i, 'self_attn.o_proj', mergeHeads(attended)), k, v };
  }

  /** Layer `i`'s feed-forward: pre-norm, then SwiGLU. Returns the residual update [B·T, d]. */
  private mlpBlock(i: number, h: tf.Tensor2D): tf.Tensor2D {
    const w = (n: string) => this.p(`model.layers.${i}.mlp.${n}.weight`) as tf.Tensor2D;
    const norm = this.norm(`model.layers.${i}.post_attention_layernorm.weight`);
    const y = rmsNorm(h, norm, this.config.rms_norm_eps); // [B·T, d]
    return swiGlu(y, w('gate_proj'), w('up_proj'), w('down_proj'), (weight) =>
      this.transposedOf(weight),
    ) as tf.Tensor2D;
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
