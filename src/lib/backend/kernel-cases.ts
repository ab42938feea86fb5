import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/architecture/config.ts';
import { AdamW } from '../training/adamw.ts';
import { kernelsNow } from '../model/architecture/kernels.ts';
import { ropeTables } from '../model/architecture/layers.ts';
import { ropeFrequencies } from '../model/architecture/rope-scaling.ts';
import type { Named } from './decoder-check.ts';
import { headLogprobs } from '../ops/head-logprobs.ts';
import {
  decoderConfig,
  generationOutputs,
  trainingOutputs,
  type LayerSizes,
} from './decoder-check.ts';

/**
 * What the kernel check (kernel-check.ts) runs: each fused kernel's op through the functions
 * the model calls (layers.ts, attend.ts, head-logprobs.ts, adamw.ts), at the tiny model's sizes
 * and one SmolLM2-135M layer's, and whole two-layer decoders.
 */

export interface Shape extends LayerSizes {
  name: string;
  /** Rows of activations (B·T) and batch. */
  batch: number;
  tokens: number;
}

/** The tiny model's sizes, and one layer of SmolLM2-135M's, at a few tokens. */
export const checkShapes: Shape[] = [
  { name: 'tiny', batch: 2, tokens: 8, d: 128, m: 384, heads: 2, kvHeads: 1, hd: 64, vocab: 1500 },
  {
    name: 'smollm2-layer',
    batch: 1,
    tokens: 6,
    d: 576,
    m: 1536,
    heads: 9,
    kvHeads: 3,
    hd: 64,
    vocab: 49152,
  },
];

/** One op on seeded inputs: its output and, with `grads`, the gradient for each input. */
interface OpCase {
  kernel: string;
  /** Input shapes, named as the gradients are reported ("d <name>"). */
  inputs: [string, number[]][];
  /** The checked output of the inputs (tensors of this backend). */
  run: (xs: tf.Tensor[]) => tf.Tensor;
  /** Compare gradients too (false: inference-only paths). */
  grads: boolean;
}

/** A whole computation (a decoder's generation or training step) and its named outputs. */
interface WholeCase {
  kernel: string;
  whole: () => Promise<Named[]>;
}

export type Case = OpCase | WholeCase;

function attentionConfig(s: Shape) {
  return {
    head_dim: s.hd,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    rms_norm_eps: 1e-5,
  } as ModelConfig;
}

/** A left-padded key mask: row b has b padding tokens first. */
const paddedMask = (s: Shape, keys: number) =>
  Array.from({ length: s.batch }, (_, b) =>
    Array.from({ length: keys }, (_, j) => (j < b ? 0 : 1)),
  );

function positionsOf(mask: number[][], past: number): number[][] {
  return mask.map((row) => {
    const seen = row.slice(0, past).reduce((a, v) => a + v, 0);
    let p = seen - 1;
    return row.slice(past).map((v) => (v ? ++p : 0));
  });
}

/** Rows [B·T, 1] that are real queries: a padding query's output is never read. */
const realRows = (mask: number[][], past: number) =>
  tf.reshape(
    tf.tensor1d(
      mask.flatMap((r) => r.slice(past)),
      'float32',
    ),
    [-1, 1],
  );

function attentionCase(s: Shape, past: number, qkNorm: boolean): Case {
  const c = attentionConfig(s);
  const rows = s.batch * s.tokens;
  const mask = paddedMask(s, past + s.tokens);
  const inputs: [string, number[]][] = [
    ['q', [rows, s.heads * s.hd]],
    ['k', [rows, s.kvHeads * s.hd]],
    ['v', [rows, s.kvHeads * s.hd]],
  ];
  if (past)
    inputs.push(
      ['past k', [s.batch, s.kvHeads, past, s.hd]],
      ['past v', [s.batch, s.kvHeads, past, s.hd]],
    );
  if (qkNorm) inputs.push(['q norm', [s.hd]], ['k norm', [s.hd]]);
  return {
    kernel: `attention${past ? ' (decode, KV cache)' : ''}${qkNorm ? ' + q/k norm' : ''}`,
    inputs,
    grads: past === 0,
    run: (xs) => {
      const [q, k, v, ...rest] = xs as tf.Tensor2D[];
      const cache = past
        ? { k: rest.shift() as unknown as tf.Tensor4D, v: rest.shift() as unknown as tf.Tensor4D }
        : undefined;
      const norms = qkNorm
        ? { q: rest[0] as unknown as tf.Tensor1D, k: rest[1] as unknown as tf.Tensor1D }
        : undefined;
      const tables = ropeTables(128, ropeFrequencies(s.hd, 10000, null));
      const input = {
        ids: tf.zeros([s.batch, s.tokens], 'int32') as tf.Tensor2D,
        keyMask: tf.tensor2d(mask),
        positions: tf.tensor2d(positionsOf(mask, past), undefined, 'int32'),
      };
      const kernels = kernelsNow(); // the set being checked (kernel-check.ts picks it)
      const step = kernels.step(tables, input, past);
      const out = kernels.attend(c, { q: q!, k: k!, v: v! }, step, cache, norms);
      // The new cache's keys and values are checked with the output when decoding.
      const parts = [tf.reshape(tf.mul(out.out, realRows(mask, past)), [-1])];
      if (past) parts.push(tf.reshape(out.k, [-1]), tf.reshape(out.v, [-1]));
      return tf.concat(parts);
    },
  };
}

/** Two-layer decoders of the shape's sizes (the tiny model's only: SmolLM2's vocabulary makes a
 * whole step of minutes on a software adapter). */
function decoderCases(s: Shape): Case[] {
  return [
    {
      kernel: 'decoder generation (prefill, 2 cached steps)',
      whole: () => generationOutputs(decoderConfig(s)),
    },
    { kernel: 'decoder training step', whole: () => trainingOutputs(decoderConfig(s)) },
  ];
}

export function casesOf(s: Shape): Case[] {
  const rows = s.batch * s.tokens;
  return [
    {
      kernel: 'rmsnorm',
      inputs: [
        ['x', [rows, s.d]],
        ['w', [s.d]],
      ],
      grads: true,
      run: ([x, w]) => kernelsNow().rmsNorm(x!, w as tf.Tensor1D, 1e-5),
    },
    {
      kernel: 'swiglu',
      inputs: [
        ['gate', [rows, s.m]],
        ['up', [rows, s.m]],
      ],
      grads: true,
      run: ([g, u]) => kernelsNow().swiglu(g as tf.Tensor2D, u as tf.Tensor2D),
    },
    attentionCase(s, 0, false),
    attentionCase(s, 0, true),
    attentionCase(s, 5, false),
    ...(s.name === 'tiny' ? decoderCases(s) : []),
    // Past one tile of 64 keys: the online softmax's rescaling between tiles.
    { ...attentionCase({ ...s, batch: 1, tokens: 72 }, 0, false), kernel: 'attention (72 tokens)' },
    {
      ...attentionCase({ ...s, batch: 2, tokens: 1 }, 70, false),
      kernel: 'attention (decode, 70 cached)',
    },
    {
      kernel: 'token log-probs (two chunks)',
      inputs: [
        ['hidden', [rows, s.d]],
        ['head', [s.vocab, s.d]],
      ],
      grads: true,
      run: ([h, w]) => {
        const targets = tf.tensor1d(
          Array.from({ length: rows }, (_, i) => (i * 7919) % s.vocab),
          'int32',
        );
        const chunk = Math.ceil(rows / 2) * s.vocab;
        return headLogprobs(h as tf.Tensor2D, w as tf.Tensor2D, targets, {
          trainHead: true,
          chunkElements: chunk,
          fused: kernelsNow().fusedLogprobs,
        }).logprobs;
      },
    },
    {
      // Ten parameters: the global norm adds more tensors than one WebGPU kernel may bind.
      kernel: 'adamw (3 steps, 10 parameters)',
      inputs: [
        ['matrix', [s.d, 8]],
        ...Array.from({ length: 9 }, (_, i): [string, number[]] => [`vector ${i}`, [s.d]]),
      ],
      grads: false,
      run: (xs) => {
        const params = new Map(xs.map((x, i) => [`p${i}`, tf.variable(tf.clone(x))]));
        const adam = new AdamW(params, {
          beta1: 0.9,
          beta2: 0.95,
          epsilon: 1e-8,
          weightDecay: 0.1,
          maxGradNorm: 0.5,
        });
        for (let step = 0; step < 3; step++) {
          const grads = new Map(
            [...params].map(([name, p]) => [name, tf.mul(tf.sin(tf.add(p, step)), 3)]),
          );
          adam.apply(grads, 0.01).dispose();
        }
        const out = tf.concat([...params.values()].map((p) => tf.reshape(p, [-1])));
        adam.dispose();
        tf.dispose([...params.values()]);
        return out;
      },
    },
  ];
}
