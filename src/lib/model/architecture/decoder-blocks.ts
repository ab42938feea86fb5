import * as tf from '@tensorflow/tfjs-core';
import type { LoraAdapter } from '../adapters/lora.ts';
import type { StepInput } from './attend.ts';
import { type ModelConfig } from './config.ts';
import { hasQkNorm } from './parameters.ts';
import type { DecoderKernels } from './kernels.ts';
import { joinedProduct, weightProduct } from './projections.ts';
import type { TransposeCache } from './transposes.ts';

/**
 * A decoder layer's two blocks, read as nanoGPT reads them: x = norm(h); h + attention(x), then
 * y = norm(h); h + mlp(y). One instance per forward pass holds the model's weights (as that
 * view of the model sees them: its adapter) and the kernel set the pass picked (kernels.ts).
 */

/** What the blocks read from their model. */
export interface LayerWeights {
  config: ModelConfig;
  /** A weight by its Hugging Face name ("model.layers.0.self_attn.q_proj.weight"). */
  param(name: string): tf.Variable;
  /** Projections with a bias (Qwen2's q, k, v). */
  biased: Set<string>;
  /** A base under LoRA adapters: no weight gradients, no stacked copies of its weights. */
  frozen: boolean;
  adapter: LoraAdapter | null;
  /** Matrix weights transposed (or stacked) once for generation. */
  transposes: TransposeCache;
}

export class DecoderBlocks {
  constructor(
    private readonly w: LayerWeights,
    private readonly kernels: DecoderKernels,
  ) {}

  /**
   * A projection of layer `i` ("self_attn.q_proj"): x [N, in] → [N, out], with its bias when the
   * architecture has one and the adapter's update when it targets the layer.
   */
  private project(i: number, name: string, x: tf.Tensor2D, residual?: tf.Tensor2D): tf.Tensor2D {
    const path = `model.layers.${i}.${name}`;
    const weight = this.w.param(`${path}.weight`) as tf.Tensor2D;
    const bias = this.w.biased.has(name)
      ? (this.w.param(`${path}.bias`) as tf.Tensor1D)
      : undefined;
    const transposed = this.w.transposes.of(weight);
    const ways = this.kernels.projections;
    const product = weightProduct(x, weight, transposed, this.w.frozen, ways, residual);
    let y = bias ? (tf.add(product.y, bias) as tf.Tensor2D) : product.y;
    const delta = this.w.adapter?.delta(path, x);
    if (delta) y = tf.add(y, delta);
    return residual && !product.folded ? tf.add(residual, y) : y;
  }

  /**
   * Several projections of one input x [N, in] as one product (projections.ts), or null where
   * a projection adds something of its own (a bias, an adapter's update) or the base is frozen
   * (stacking would copy its weights).
   */
  private projectJoined(i: number, names: string[], x: tf.Tensor2D, readInPlace = true) {
    const paths = names.map((name) => `model.layers.${i}.${name}`);
    if (this.w.frozen || names.some((n) => this.w.biased.has(n))) return null;
    if (paths.some((p) => this.w.adapter?.targets(p))) return null;
    const weights = paths.map((p) => this.w.param(`${p}.weight`) as tf.Tensor2D); // [out_i, in] each
    return joinedProduct(x, weights, this.w.transposes, readInPlace, this.kernels.projections);
  }

  private norm(name: string): tf.Tensor1D {
    return this.w.param(name) as unknown as tf.Tensor1D;
  }

  /** RMSNorm of the residual stream h [B·T, d] by the norm weight `name`. */
  private normed(h: tf.Tensor2D, name: string): tf.Tensor2D {
    return this.kernels.rmsNorm(h, this.norm(name), this.w.config.rms_norm_eps) as tf.Tensor2D;
  }

  /**
   * Layer `i`'s attention: pre-norm, q/k/v projections, rotary q and k, attention over the
   * cached and new keys, output projection added to the residual stream. Returns the stream
   * after the block [B·T, d] and the keys and values (cache included) for the next cache.
   */
  attention(
    i: number,
    h: tf.Tensor2D, // [B·T, d]
    step: StepInput,
    past?: { k: tf.Tensor4D; v: tf.Tensor4D },
  ): { h: tf.Tensor2D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const c = this.w.config;
    const layer = `model.layers.${i}`;
    const x = this.normed(h, `${layer}.input_layernorm.weight`); // [B·T, d]
    const qkNorm = hasQkNorm(c) // Qwen3: each head of q and k normalised before the rotation
      ? {
          q: this.norm(`${layer}.self_attn.q_norm.weight`),
          k: this.norm(`${layer}.self_attn.k_norm.weight`),
        }
      : undefined;
    const qkv = this.qkv(i, x, !qkNorm);
    const { out, k, v } = this.kernels.attend(c, qkv, step, past, qkNorm); // out [B·T, H·hd]
    return { h: this.project(i, 'self_attn.o_proj', out, h), k, v };
  }

  /**
   * q, k and v of x [B·T, d]: one product's joined rows [B·T, (H + 2kvH)·hd] where the kernels
   * read them in place (`readInPlace`: not with per-head norms), else each apart.
   */
  private qkv(i: number, x: tf.Tensor2D, readInPlace: boolean) {
    const names = ['q_proj', 'k_proj', 'v_proj'].map((n) => `self_attn.${n}`);
    const one = this.projectJoined(i, names, x, readInPlace);
    if (one && 'joined' in one) return one.joined;
    const [q, k, v] = one ? one.parts : names.map((n) => this.project(i, n, x));
    return { q: q!, k: k!, v: v! };
  }

  /**
   * Layer `i`'s feed-forward: pre-norm, then SwiGLU, down(silu(gate(y)) · up(y)), added to the
   * residual stream. Returns the stream after the block [B·T, d].
   */
  mlp(i: number, h: tf.Tensor2D): tf.Tensor2D {
    const y = this.normed(h, `model.layers.${i}.post_attention_layernorm.weight`); // [B·T, d]
    const names = ['mlp.gate_proj', 'mlp.up_proj'];
    const one = this.projectJoined(i, names, y); // [B·T, 2m] or gate, up apart
    let act: tf.Tensor2D; // [B·T, m]
    if (one && 'joined' in one) act = this.kernels.swigluJoined(one.joined);
    else {
      const [gate, up] = one ? one.parts : names.map((n) => this.project(i, n, y));
      act = this.kernels.swiglu(gate!, up!);
    }
    return this.project(i, 'mlp.down_proj', act, h);
  }
}
