import * as tf from '@tensorflow/tfjs-core';
import { groupsFor, reductions, runKernel } from './program.ts';
import { withGradient } from './kernel-set.ts';

/**
 * Causal grouped-query attention as one dispatch: for each query row (b, h, t) a workgroup
 * walks the keys in tiles of 64, keeping a running maximum and sum (the online softmax of
 * FlashAttention), so scores never reach memory; the output is written straight in the rows
 * layout [B·T, H·hd] the output projection reads. Query t (absolute position P + t, P cached
 * keys) sees key s when s ≤ P + t and the key is not padding; a row that sees no key (a
 * padding query) gets zeros. Stock tfjs takes a bias (8 dispatches), two products, a scale, an
 * add, a softmax and a transpose.
 *
 * The backward (training: P = 0) takes five: the probabilities p again, the score gradients
 * dS = p ∘ (dP − Σ_s p·dP)·scale with dP = dO·vᵀ, and dq = dS·k, dk = dSᵀ·q, dv = pᵀ·dO summed
 * over the query heads that share a key head.
 */

const lanes = 64;
/** Head sizes up to 4 × 64 values per query, one accumulator per lane and slot. */
const maxHeadDim = 4 * lanes;

interface Dims {
  batch: number;
  heads: number;
  kvHeads: number;
  tokens: number;
  keys: number;
  past: number;
  hd: number;
}

function dimsOf(q: tf.Tensor4D, k: tf.Tensor4D, past: number): Dims {
  const [batch, heads, tokens, hd] = q.shape;
  if (hd > maxHeadDim)
    throw new Error(`Fused attention supports head sizes up to ${maxHeadDim}, not ${hd}.`);
  return { batch, heads, kvHeads: k.shape[1], tokens, keys: k.shape[2], past, hd };
}

const uniformsOf = (d: Dims) => ({
  rows: { type: 'i32' as const, value: d.batch * d.heads * d.tokens },
  heads: { type: 'i32' as const, value: d.heads },
  kvHeads: { type: 'i32' as const, value: d.kvHeads },
  tokens: { type: 'i32' as const, value: d.tokens },
  keys: { type: 'i32' as const, value: d.keys },
  past: { type: 'i32' as const, value: d.past },
  hd: { type: 'i32' as const, value: d.hd },
  scale: { type: 'f32' as const, value: 1 / Math.sqrt(d.hd) },
});

/** WGSL naming a query row's coordinates and where its keys start. */
const rowCoords = `
  let r0 = row();
  let r = min(r0, uniforms.rows - 1);
  let valid = r0 < uniforms.rows;
  let t = r % uniforms.tokens;
  let h = (r / uniforms.tokens) % uniforms.heads;
  let b = r / (uniforms.tokens * uniforms.heads);
  let kBase = (b * uniforms.kvHeads + h / (uniforms.heads / uniforms.kvHeads)) * uniforms.keys * uniforms.hd;
  let outBase = (b * uniforms.tokens + t) * uniforms.heads * uniforms.hd + h * uniforms.hd;
  let visible = min(uniforms.keys, uniforms.past + t + 1);`;

/** WGSL: `score`, query r's scaled score for key s, or −1e30 where it may not look. */
const scoreOf = `
  var score = -1e30;
  if (s < visible && mask[b * uniforms.keys + s] > 0.5) {
    var dotv = 0.0;
    for (var d = 0; d < uniforms.hd; d++) { dotv += q[r * uniforms.hd + d] * k[kBase + s * uniforms.hd + d]; }
    score = dotv * uniforms.scale;
  }`;

function forwardKernel(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, d: Dims) {
  return runKernel({
    key: 'attention',
    inputs: { q, k, v, mask },
    outputShape: [d.batch * d.tokens, d.heads * d.hd],
    workgroup: lanes,
    groups: d.batch * d.heads * d.tokens,
    uniforms: uniformsOf(d),
    decls: `${reductions(lanes)}
      var<workgroup> tile : array<f32, ${lanes}>;`,
    body: `${rowCoords}
      var m = -1e30;
      var l = 0.0;
      var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
      for (var s0 = 0; s0 < uniforms.keys; s0 += ${lanes}) {
        let s = s0 + lane();
        ${scoreOf}
        tile[lane()] = score;
        let mNew = max(m, reduceMax(score));
        let alpha = exp(m - mNew);
        l = l * alpha;
        for (var i = 0; i < 4; i++) { acc[i] = acc[i] * alpha; }
        let count = min(${lanes}, uniforms.keys - s0);
        for (var j = 0; j < count; j++) {
          let sc = tile[j];
          if (sc > -1e29) {
            let p = exp(sc - mNew);
            l += p;
            let vOff = kBase + (s0 + j) * uniforms.hd;
            for (var i = 0; i < 4; i++) {
              let dd = lane() + i * ${lanes};
              if (dd < uniforms.hd) { acc[i] += p * v[vOff + dd]; }
            }
          }
        }
        m = mNew;
        workgroupBarrier();
      }
      if (valid) {
        let inv = select(0.0, 1.0 / l, l > 0.0);
        for (var i = 0; i < 4; i++) {
          let dd = lane() + i * ${lanes};
          if (dd < uniforms.hd) { result[outBase + dd] = acc[i] * inv; }
        }
      }`,
  }) as tf.Tensor2D;
}

/**
 * A kernel with one workgroup per query row (b, h, t), writing a row of scores-shaped output
 * [B·H·T, S]: `body` runs with the row's coordinates (rowCoords) and `base`, where its row of
 * the output starts.
 */
function scoreRowKernel(key: string, inputs: Record<string, tf.Tensor>, d: Dims, body: string) {
  return runKernel({
    key,
    inputs,
    outputShape: [d.batch * d.heads * d.tokens, d.keys],
    workgroup: lanes,
    groups: d.batch * d.heads * d.tokens,
    uniforms: uniformsOf(d),
    decls: reductions(lanes),
    body: `${rowCoords}
      let base = r * uniforms.keys;
      ${body}`,
  }) as tf.Tensor2D;
}

/** The attention probabilities [B·H·T, S] (zeros where a query may not look). */
function probsKernel(q: tf.Tensor4D, k: tf.Tensor4D, mask: tf.Tensor2D, d: Dims) {
  return scoreRowKernel(
    'attention_probs',
    { q, k, mask },
    d,
    `
      var mx = -1e30;
      for (var s = lane(); s < uniforms.keys; s += ${lanes}) {
        ${scoreOf}
        mx = max(mx, score);
      }
      let top = reduceMax(mx);
      var z = 0.0;
      for (var s = lane(); s < uniforms.keys; s += ${lanes}) {
        ${scoreOf}
        if (score > -1e29) { z += exp(score - top); }
      }
      let total = reduceSum(z);
      if (valid) {
        for (var s = lane(); s < uniforms.keys; s += ${lanes}) {
          ${scoreOf}
          result[base + s] = select(0.0, exp(score - top) / total, score > -1e29);
        }
      }`,
  );
}

/** dS [B·H·T, S] = p ∘ (dP − Σ_s p·dP) · scale, dP = dO·vᵀ, from p, dO [B·T, H·hd] and v. */
function scoreGradKernel(p: tf.Tensor2D, dO: tf.Tensor2D, v: tf.Tensor4D, d: Dims) {
  return scoreRowKernel(
    'attention_dscores',
    { p, dO, v },
    d,
    `
      var acc = 0.0;
      for (var s = lane(); s < uniforms.keys; s += ${lanes}) {
        var dp = 0.0;
        for (var dd = 0; dd < uniforms.hd; dd++) { dp += dO[outBase + dd] * v[kBase + s * uniforms.hd + dd]; }
        acc += p[base + s] * dp;
        if (valid) { result[base + s] = dp; }
      }
      let total = reduceSum(acc);
      if (valid) {
        for (var s = lane(); s < uniforms.keys; s += ${lanes}) {
          result[base + s] = p[base + s] * (result[base + s] - total) * uniforms.scale;
        }
      }`,
  );
}

/** dq [B, H, T, hd] = dS · k (per query head, its key head). */
function queryGradKernel(dS: tf.Tensor2D, k: tf.Tensor4D, d: Dims) {
  const size = d.batch * d.heads * d.tokens * d.hd;
  return runKernel({
    key: 'attention_dq',
    inputs: { dS, k },
    outputShape: [d.batch, d.heads, d.tokens, d.hd],
    workgroup: lanes,
    groups: groupsFor(size),
    uniforms: { ...uniformsOf(d), size: { type: 'i32', value: size } },
    body: `
      if (index < uniforms.size) {
        let dd = index % uniforms.hd;
        let r = index / uniforms.hd;
        let t = r % uniforms.tokens;
        let h = (r / uniforms.tokens) % uniforms.heads;
        let b = r / (uniforms.tokens * uniforms.heads);
        let kBase = (b * uniforms.kvHeads + h / (uniforms.heads / uniforms.kvHeads)) * uniforms.keys * uniforms.hd;
        let visible = min(uniforms.keys, uniforms.past + t + 1);
        var sum = 0.0;
        for (var s = 0; s < visible; s++) { sum += dS[r * uniforms.keys + s] * k[kBase + s * uniforms.hd + dd]; }
        result[index] = sum;
      }`,
  }) as tf.Tensor4D;
}

/**
 * dk = Σ dSᵀ·q, or dv = Σ pᵀ·dO (`values`), over the query heads and rows that see each key:
 * [B, kvH, S, hd].
 */
function keyGradKernel(weights: tf.Tensor2D, other: tf.Tensor, d: Dims, values: boolean) {
  const size = d.batch * d.kvHeads * d.keys * d.hd;
  const read = values
    ? 'o[(b * uniforms.tokens + t) * uniforms.heads * uniforms.hd + hh * uniforms.hd + dd]'
    : 'o[qr * uniforms.hd + dd]';
  return runKernel({
    key: values ? 'attention_dv' : 'attention_dk',
    inputs: { w: weights, o: other },
    outputShape: [d.batch, d.kvHeads, d.keys, d.hd],
    workgroup: lanes,
    groups: groupsFor(size),
    uniforms: { ...uniformsOf(d), size: { type: 'i32', value: size } },
    body: `
      if (index < uniforms.size) {
        let dd = index % uniforms.hd;
        let s = (index / uniforms.hd) % uniforms.keys;
        let kh = (index / (uniforms.hd * uniforms.keys)) % uniforms.kvHeads;
        let b = index / (uniforms.hd * uniforms.keys * uniforms.kvHeads);
        let group = uniforms.heads / uniforms.kvHeads;
        var sum = 0.0;
        for (var hh = kh * group; hh < (kh + 1) * group; hh++) {
          for (var t = max(0, s - uniforms.past); t < uniforms.tokens; t++) {
            let qr = (b * uniforms.heads + hh) * uniforms.tokens + t;
            sum += w[qr * uniforms.keys + s] * ${read};
          }
        }
        result[index] = sum;
      }`,
  }) as tf.Tensor4D;
}

/**
 * softmax(q kᵀ/√hd, causal and key-masked) v for q [B, H, T, hd] (rotated), k and v
 * [B, kvH, S, hd] (S = `past` + T), keyMask [B, S]: the output in rows [B·T, H·hd].
 */
export function fusedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  keyMask: tf.Tensor2D,
  past: number,
): tf.Tensor2D {
  const d = dimsOf(q, k, past);
  return withGradient(
    [q, k, v],
    () => ({ value: forwardKernel(q, k, v, keyMask, d), saved: [q, k, v, keyMask] }),
    (dO, [sq, sk, sv, mask]) => {
      const [q4, k4, v4] = [sq, sk, sv] as tf.Tensor4D[];
      const p = probsKernel(q4!, k4!, mask as tf.Tensor2D, d);
      const dS = scoreGradKernel(p, dO, v4!, d);
      const grads = [
        queryGradKernel(dS, k4!, d),
        keyGradKernel(dS, q4!, d, false),
        keyGradKernel(p, dO, d, true),
      ];
      tf.dispose([p, dS]);
      return grads;
    },
  );
}
