import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config.ts';
import {
  applyRope,
  attention,
  attentionBias,
  mergeHeads,
  rmsNorm,
  ropeAt,
  splitHeads,
} from './layers.ts';
import { fusedAttention } from '../../kernels/attention.ts';
import { fusedRmsNorm } from '../../kernels/rms-norm.ts';
import { fusedHeads, type RopeTables } from '../../kernels/rope-heads.ts';

/**
 * The middle of an attention block, from the q, k, v projections to the attended values:
 * per-head norms (Qwen3), rotary positions, the KV cache, and grouped-query attention. Two
 * paths compute the same thing: tfjs's stock ops (`stockStep`, `stockAttend`), or the fused
 * WebGPU kernels of kernels/ (`fusedStep`, `fusedAttend`); kernels.ts picks one per forward pass.
 */

/** What every decoder block of one forward pass shares. */
export interface StepInput {
  batch: number;
  /** Key positions cached before this pass (P). */
  past: number;
  /** 1 for real tokens, 0 for padding, over all P + T key positions [B, S]. */
  keyMask: tf.Tensor2D;
  /** Stock path: additive attention mask [B, 1, T, S] and rotary cos and sin [B, 1, T, hd]. */
  stock?: { bias: tf.Tensor4D; angles: ReturnType<typeof ropeAt> };
  /** Fused path: each new token's position [B·T] (int32) and the rotary tables. */
  fused?: { positions: tf.Tensor1D; tables: RopeTables };
}

type StepSource = { ids: tf.Tensor2D; keyMask: tf.Tensor2D; positions: tf.Tensor2D };

/** The stock path's shared inputs: the additive mask and the rotary angles of the new tokens. */
export function stockStep(tables: RopeTables, input: StepSource, past: number): StepInput {
  const [batch, newTokens] = input.ids.shape;
  return {
    batch,
    past,
    keyMask: input.keyMask,
    stock: {
      bias: attentionBias(input.keyMask, past, newTokens), // [B, 1, T, S]
      angles: ropeAt(tables, input.positions), // cos, sin [B, 1, T, hd]
    },
  };
}

/** The fused path's shared inputs: each new token's position, read with the tables by the kernels. */
export function fusedStep(tables: RopeTables, input: StepSource, past: number): StepInput {
  const [batch] = input.ids.shape;
  const positions = tf.reshape(input.positions, [-1]) as tf.Tensor1D; // [B·T]
  return { batch, past, keyMask: input.keyMask, fused: { positions, tables } };
}

export interface Projections {
  q: tf.Tensor2D; // [B·T, H·hd]
  k: tf.Tensor2D; // [B·T, kvH·hd]
  v: tf.Tensor2D; // [B·T, kvH·hd]
}

/** q, k and v side by side in one product's rows [B·T, (H + 2kvH)·hd] (fused generation). */
export type JoinedProjections = tf.Tensor2D;

/**
 * Attends with projections `p`: returns the attended values as rows [B·T, H·hd] for the output
 * projection, and the keys and values over all positions [B, kvH, S, hd] for the next cache.
 * `qkNorm`: Qwen3's per-head RMSNorm weights [hd] of q and k, applied before the rotation.
 */
export function stockAttend(
  c: ModelConfig,
  p: Projections | JoinedProjections,
  step: StepInput,
  past?: { k: tf.Tensor4D; v: tf.Tensor4D },
  qkNorm?: { q: tf.Tensor1D; k: tf.Tensor1D },
): { out: tf.Tensor2D; k: tf.Tensor4D; v: tf.Tensor4D } {
  const hd = c.head_dim;
  const heads = { q: c.num_attention_heads, k: c.num_key_value_heads, v: c.num_key_value_heads };
  if (p instanceof tf.Tensor) throw new Error('Joined projections need the fused kernels.');
  if (!step.stock) throw new Error('stockAttend: the step was made for the fused kernels.');
  const { bias, angles } = step.stock;
  const split = (x: tf.Tensor2D, n: number) => splitHeads(x, step.batch, n, hd);
  const headNorm = (t: tf.Tensor4D, w?: tf.Tensor1D) =>
    w ? (rmsNorm(t, w, c.rms_norm_eps) as tf.Tensor4D) : t;
  const q = applyRope(headNorm(split(p.q, heads.q), qkNorm?.q), angles); // [B, H, T, hd]
  let k = applyRope(headNorm(split(p.k, heads.k), qkNorm?.k), angles); // [B, kvH, T, hd]
  let v = split(p.v, heads.v); // [B, kvH, T, hd]
  if (past) {
    k = tf.concat([past.k, k], 2); // [B, kvH, S, hd]
    v = tf.concat([past.v, v], 2);
  }
  return { out: mergeHeads(attention(q, k, v, bias)), k, v };
}

/** The same on the fused WebGPU kernels: q, k and v split into rotated heads by one kernel each
 * (read in place from joined rows when `p` is one product's), then one attention kernel. */
export function fusedAttend(
  c: ModelConfig,
  p: Projections | JoinedProjections,
  step: StepInput,
  past?: { k: tf.Tensor4D; v: tf.Tensor4D },
  qkNorm?: { q: tf.Tensor1D; k: tf.Tensor1D },
): { out: tf.Tensor2D; k: tf.Tensor4D; v: tf.Tensor4D } {
  if (!step.fused) throw new Error('fusedAttend: the step was made for the stock ops.');
  const hd = c.head_dim;
  const heads = { q: c.num_attention_heads, k: c.num_key_value_heads, v: c.num_key_value_heads };
  const { positions, tables } = step.fused;
  // Per-head norms over rows of hd values: [B·T·n, hd] views of the projections.
  const normed = (x: tf.Tensor2D, w: tf.Tensor1D | undefined, n: number) =>
    w ? tf.reshape(fusedRmsNorm(tf.reshape(x, [-1, hd]), w, c.rms_norm_eps), [-1, n * hd]) : x;
  // Joined rows: each part read in place, at its offset (no per-head norms then).
  const joined = p instanceof tf.Tensor;
  const rows = (name: 'q' | 'k' | 'v', w?: tf.Tensor1D) =>
    joined ? p : (normed(p[name], w, heads[name]) as tf.Tensor2D);
  const offsets = { q: 0, k: heads.q * hd, v: (heads.q + heads.k) * hd };
  const shape = (n: 'q' | 'k' | 'v') => ({
    batch: step.batch,
    heads: heads[n],
    headDim: hd,
    offset: joined ? offsets[n] : 0,
  });
  const q = fusedHeads(rows('q', qkNorm?.q), positions, tables, shape('q'));
  const k = fusedHeads(rows('k', qkNorm?.k), positions, tables, shape('k'), past?.k);
  const v = fusedHeads(rows('v'), positions, null, shape('v'), past?.v);
  return { out: fusedAttention(q, k, v, step.keyMask, step.past), k, v };
}
