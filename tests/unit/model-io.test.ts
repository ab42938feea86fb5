import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { argmax, sampleToken } from '../../src/lib/model/generation/sampling.ts';
import { readSafetensors, writeSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { chunksOf, headLogprobs } from '../../src/lib/ops/head-logprobs.ts';
import { Rng } from '../../src/lib/util/random.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

describe('safetensors', () => {
  test('round-trips float32 tensors and metadata', () => {
    const tensors = new Map([
      ['b.weight', { shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-7, -1e30) }],
      ['a.bias', { shape: [1], data: Float32Array.of(42) }],
    ]);
    const file = writeSafetensors(tensors, { step: '7' });
    const back = readSafetensors(file);
    expect(back.metadata).toEqual({ step: '7' });
    expect(back.tensors.get('b.weight')).toEqual(tensors.get('b.weight'));
    expect(back.tensors.get('a.bias')).toEqual(tensors.get('a.bias'));
    const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
  });

  test('reads float16 and bfloat16', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    });
    const bytes = new Uint8Array(8 + header.length + 10);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const at = 8 + header.length;
    [0x3c00, 0xc000, 0x3555].forEach((h, i) => view.setUint16(at + i * 2, h, true)); // 1, -2, 0.333...
    [0x3f80, 0xc0a0].forEach((h, i) => view.setUint16(at + 6 + i * 2, h, true)); // 1, -5
    const { tensors } = readSafetensors(bytes);
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -5]);
  });

  test('a truncated or corrupt file gets a clear message', () => {
    const file = writeSafetensors(new Map([['w', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => readSafetensors(file.subarray(0, file.length - 4), 'w.safetensors')).toThrow(
      'w.safetensors: tensor "w" lies outside the file (bytes 0-16; the file is truncated?); the file is corrupt.',
    );
    expect(() => readSafetensors(Uint8Array.of(1, 2, 3), 'x.bin')).toThrow(
      'x.bin is not a safetensors file',
    );
    const broken = file.slice();
    broken[9] = 0x7b; // break the JSON
    broken[8] = 0x5b;
    expect(() => readSafetensors(broken)).toThrow('its header is not valid JSON');
  });
});

describe('log-probs through the output head, in chunks', () => {
  const eye = tf.eye(3) as tf.Tensor2D; // head W = I: the logits are the hidden states

  test('log-probs and entropy, by hand', async () => {
    // Row 0: log softmax([0, ln 2, ln 3]) = ln([1, 2, 3] / 6); row 1: uniform over 3.
    const hidden = tf.tensor2d([
      [0, Math.log(2), Math.log(3)],
      [0, 0, 0],
    ]);
    const targets = tf.tensor1d([2, 1], 'int32');
    for (const chunkElements of [3, 1 << 20]) {
      const out = headLogprobs(hidden, eye, targets, {
        trainHead: false,
        entropy: true,
        chunkElements,
      });
      const lp = await out.logprobs.data();
      expect(lp[0]).toBeCloseTo(Math.log(0.5), 6);
      expect(lp[1]).toBeCloseTo(Math.log(1 / 3), 6);
      const h = await out.entropy!.data();
      const p = [1 / 6, 2 / 6, 3 / 6];
      expect(h[0]).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 6);
      expect(h[1]).toBeCloseTo(Math.log(3), 6);
      tf.dispose([out.logprobs, out.entropy!]);
    }
    expect(chunksOf(10, 5, 12)).toEqual([
      [0, 2],
      [2, 2],
      [4, 2],
      [6, 2],
      [8, 2],
    ]);
  });

  test('the gradient is dy · (onehot(target) - softmax), as finite differences say', async () => {
    // d lp / d logits: softmax = [1, 2, 3] / 6, target 2 → [-1/6, -2/6, 1 - 3/6].
    const row = tf.tensor2d([[0, Math.log(2), Math.log(3)]]);
    const target = tf.tensor1d([2], 'int32');
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(headLogprobs(x as tf.Tensor2D, eye, target, { trainHead: false }).logprobs),
    );
    expect(Array.from(await grad(row).data()).map((g) => +g.toFixed(6))).toEqual([
      -0.166667, -0.333333, 0.5,
    ]);
    // Random hidden states [4, 3] and head [5, 3], weights dy, chunks of one row and of all:
    // both the hidden states' and the head's gradients match central differences.
    const h0 = tf.randomNormal([4, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
    const w0 = tf.randomNormal([5, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
    const t = tf.tensor1d([4, 0, 2, 2], 'int32');
    const dy = tf.tensor1d([1, -2, 0.5, 3]);
    for (const chunkElements of [5, 1 << 20]) {
      const f = (h: tf.Tensor, w: tf.Tensor) =>
        tf.sum(
          tf.mul(
            headLogprobs(h as tf.Tensor2D, w as tf.Tensor2D, t, { trainHead: true, chunkElements })
              .logprobs,
            dy,
          ),
        );
      const [dh, dw] = tf.grads(f)([h0, w0]);
      for (const [k, base, analytic] of [
        [0, await h0.data(), await dh!.data()],
        [1, await w0.data(), await dw!.data()],
      ] as const) {
        for (let i = 0; i < base.length; i++) {
          const at = async (d: number) => {
            const moved = Float32Array.from(base);
            moved[i]! += d;
            const args =
              k === 0 ? [tf.tensor2d(moved, [4, 3]), w0] : [h0, tf.tensor2d(moved, [5, 3])];
            return (await f(args[0]!, args[1]!).data())[0]!;
          };
          const h = 1e-2;
          expect(analytic[i]).toBeCloseTo(((await at(h)) - (await at(-h))) / (2 * h), 2);
        }
      }
    }
  });

  test('a frozen head: the same hidden-state gradient, nothing kept or leaked', async () => {
    const h = tf.variable(tf.randomNormal([6, 3], 0, 1, 'float32', 5));
    const w = tf.randomNormal([7, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
    const t = tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32');
    const before = tf.memory().numTensors;
    const gradOf = async (trainHead: boolean) => {
      const { grads, value } = tf.variableGrads(
        () =>
          tf.sum(
            headLogprobs(h as tf.Tensor2D, w, t, { trainHead, chunkElements: 14 }).logprobs,
          ) as tf.Scalar,
        [h],
      );
      const out = await grads[h.name]!.data();
      tf.dispose([value, ...Object.values(grads)]);
      return Array.from(out);
    };
    const frozen = await gradOf(false);
    const trained = await gradOf(true);
    frozen.forEach((g, i) => expect(g).toBeCloseTo(trained[i]!, 6));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sampling', () => {
  const logits = [1, 3, 2, -1];
  test('temperature 0 and top-k 1 are greedy; top-p keeps the nucleus', () => {
    const rng = new Rng(1);
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 0, topP: 1 }, rng)).toBe(1);
    for (let i = 0; i < 50; i++)
      expect(sampleToken(logits, { temperature: 1, topK: 1, topP: 1 }, rng)).toBe(1);
    // softmax: p(1) = 0.665, p(2) = 0.245: top-p 0.8 keeps exactly tokens 1 and 2.
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++)
      seen.add(sampleToken(logits, { temperature: 1, topK: 0, topP: 0.8 }, rng));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  test('draws follow the softmax and are reproducible under a seed', () => {
    const counts = [0, 0, 0, 0];
    const rng = new Rng(5);
    for (let i = 0; i < 20000; i++)
      counts[sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, rng)]!++;
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    logits.forEach((l, i) => expect(counts[i]! / 20000).toBeCloseTo(Math.exp(l) / z, 1));
    const a = new Rng(9);
    const b = new Rng(9);
    const draw = (r: Rng) =>
      Array.from({ length: 20 }, () =>
        sampleToken(logits, { temperature: 2, topK: 3, topP: 0.9 }, r),
      );
    expect(draw(a)).toEqual(draw(b));
  });
});

test('a safetensors file read from a Node Buffer (a view of a shared pool) decodes its own bytes', () => {
  const file = writeSafetensors(new Map([['w', { shape: [3], data: Float32Array.of(1, 2, 3) }]]));
  const pooled = Buffer.concat([Buffer.alloc(5), Buffer.from(file)]).subarray(5);
  expect(Array.from(readSafetensors(pooled).tensors.get('w')!.data)).toEqual([1, 2, 3]);
});
