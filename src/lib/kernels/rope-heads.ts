import * as tf from '@tensorflow/tfjs-core';
import { groupsFor, runKernel } from './program.ts';
import { withGradient } from './kernel-set.ts';

/**
 * From a projection's rows to attention heads in one dispatch: x [B·T, n·hd] (rows
 * batch-major) → [B, n, P + T, hd], rotated by each token's position (RoPE, HF's rotate_half
 * convention) when `rotate`, and appended after a past cache [B, n, P, hd] when given. Stock
 * tfjs takes a reshape-transpose, two gathers of the angles, a split, a negation, a concat,
 * two products, a sum and a concat for the cache: nine dispatches for k, two for v.
 *
 * The rotation of a pair (x_i, x_{i+hd/2}) by angle a is orthogonal, so the backward is the
 * rotation by −a, read back into rows: dx_i = g_i cos a + (i < hd/2 ? g_{i+hd/2} : −g_{i−hd/2}) sin a.
 */

export interface RopeTables {
  cos: tf.Tensor2D; // [maxPositions, hd]
  sin: tf.Tensor2D; // [maxPositions, hd]
}

interface HeadsShape {
  batch: number;
  heads: number;
  headDim: number;
  /** Where these heads start in each row of x (q, k and v side by side in one product's rows:
   * generation); 0 when x holds only these heads. */
  offset?: number;
}

function uniformsOf(s: HeadsShape, tokens: number, past: number) {
  return {
    heads: { type: 'i32' as const, value: s.heads },
    hd: { type: 'i32' as const, value: s.headDim },
    tokens: { type: 'i32' as const, value: tokens },
    past: { type: 'i32' as const, value: past },
  };
}

/**
 * WGSL for `value`: element d of head h of token row `rw`, read from `src` where that head's
 * vector starts at `off`, rotated by the token's angles (`sign` −1: the inverse rotation).
 */
const rotated = (src: string, off: string, sign: string, rotate: boolean) =>
  rotate
    ? `let half = uniforms.hd / 2;
       let p = positions[rw];
       let off = ${off};
       let other = select(${src}[off + d - half], -${src}[off + d + half], d < half);
       let value = ${src}[off + d] * cosT[p * uniforms.hd + d] + ${sign} * other * sinT[p * uniforms.hd + d];`
    : `let value = ${src}[${off} + d];`;

/** Where head h of row rw starts in rows [B·T, n·hd], and in heads [B, n, T, hd]. */
const rowOffset = 'rw * uniforms.width + uniforms.offset + h * uniforms.hd';
const headOffset =
  '(((rw / uniforms.tokens) * uniforms.heads + h) * uniforms.tokens + rw % uniforms.tokens) * uniforms.hd';

function toHeads(
  x: tf.Tensor2D,
  positions: tf.Tensor1D,
  tables: RopeTables | null,
  shape: HeadsShape,
  past?: tf.Tensor4D,
): tf.Tensor4D {
  const tokens = x.shape[0] / shape.batch;
  const pastLength = past?.shape[2] ?? 0;
  const length = pastLength + tokens;
  const outputShape = [shape.batch, shape.heads, length, shape.headDim];
  const inputs: Record<string, tf.Tensor> = { x, positions };
  if (tables) Object.assign(inputs, { cosT: tables.cos, sinT: tables.sin });
  if (past) inputs.past = past;
  const size = outputShape.reduce((a, b) => a * b, 1);
  return runKernel({
    key: `heads_${tables ? 'rope' : 'copy'}_${past ? 'append' : 'new'}`,
    inputs,
    outputShape,
    workgroup: 64,
    groups: groupsFor(size),
    uniforms: {
      ...uniformsOf(shape, tokens, pastLength),
      size: { type: 'i32', value: size },
      width: { type: 'i32', value: x.shape[1] },
      offset: { type: 'i32', value: shape.offset ?? 0 },
    },
    body: `
      if (index < uniforms.size) {
        let d = index % uniforms.hd;
        let s = (index / uniforms.hd) % (uniforms.past + uniforms.tokens);
        let bh = index / (uniforms.hd * (uniforms.past + uniforms.tokens));
        let h = bh % uniforms.heads;
        let b = bh / uniforms.heads;
        ${
          past
            ? `if (s < uniforms.past) {
                 result[index] = past[(bh * uniforms.past + s) * uniforms.hd + d];
               } else {`
            : '{'
        }
          let rw = b * uniforms.tokens + s - uniforms.past;
          ${rotated('x', rowOffset, '1.0', tables !== null)}
          result[index] = value;
        }
      }`,
  }) as tf.Tensor4D;
}

/** The backward of `toHeads` without a past: g [B, n, T, hd] → dx [B·T, n·hd]. */
function fromHeads(
  g: tf.Tensor4D,
  positions: tf.Tensor1D,
  tables: RopeTables | null,
  shape: HeadsShape,
): tf.Tensor2D {
  const tokens = g.shape[2];
  const rows = shape.batch * tokens;
  const width = shape.heads * shape.headDim;
  const inputs: Record<string, tf.Tensor> = { g, positions };
  if (tables) Object.assign(inputs, { cosT: tables.cos, sinT: tables.sin });
  return runKernel({
    key: `heads_back_${tables ? 'rope' : 'copy'}`,
    inputs,
    outputShape: [rows, width],
    workgroup: 64,
    groups: groupsFor(rows * width),
    uniforms: { ...uniformsOf(shape, tokens, 0), size: { type: 'i32', value: rows * width } },
    body: `
      if (index < uniforms.size) {
        let d = index % uniforms.hd;
        let h = (index / uniforms.hd) % uniforms.heads;
        let rw = index / (uniforms.hd * uniforms.heads);
        ${rotated('g', headOffset, '-1.0', tables !== null)}
        result[index] = value;
      }`,
  }) as tf.Tensor2D;
}

/**
 * Projection rows x [B·T, n·hd] as heads [B, n, P + T, hd]: rotated by `tables` at `positions`
 * [B·T] (int32) unless `tables` is null (values), after `past` when given (a KV cache; no
 * gradient flows into it, so training passes none).
 */
export function fusedHeads(
  x: tf.Tensor2D,
  positions: tf.Tensor1D,
  tables: RopeTables | null,
  shape: HeadsShape,
  past?: tf.Tensor4D,
): tf.Tensor4D {
  if ((past || x.shape[1] !== shape.heads * shape.headDim) && tf.engine().isTapeOn())
    throw new Error(
      'fusedHeads: no gradient through a KV cache or joined projections (generation only).',
    );
  return withGradient(
    [x],
    () => ({
      value: toHeads(x, positions, tables, shape, past),
      saved: tables ? [positions, tables.cos, tables.sin] : [positions],
    }),
    (dy, [kept, cos, sin]) => {
      const keptTables = tables && { cos: cos as tf.Tensor2D, sin: sin as tf.Tensor2D };
      return [fromHeads(dy, kept as tf.Tensor1D, keptTables, shape)];
    },
  );
}
