import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { argmax, sampleToken } from '../../src/lib/model/sampling.ts';
import { readSafetensors, writeSafetensors } from '../../src/lib/model/safetensors.ts';
import { maskedCrossEntropy, tokenLogprobs } from '../../src/lib/ops/logprobs.ts';
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
    expect(() => readSafetensors(file.subarray(0, file.length - 4))).toThrow(
      'the file is truncated or corrupt',
    );
    expect(() => readSafetensors(Uint8Array.of(1, 2, 3))).toThrow('Not a safetensors file');
    const broken = file.slice();
    broken[9] = 0x7b; // break the JSON
    broken[8] = 0x5b;
    expect(() => readSafetensors(broken)).toThrow('the header is not valid JSON');
  });
});

describe('log-probs', () => {
  test('token log-probs and the masked cross-entropy, by hand', async () => {
    // One row, two positions, vocabulary 3. log softmax([0, ln 2, ln 3]) = ln([1, 2, 3] / 6).
    const logits = tf.tensor3d([
      [
        [0, Math.log(2), Math.log(3)],
        [0, 0, 0],
      ],
    ]);
    const targets = tf.tensor2d([[2, 1]], undefined, 'int32');
    const lp = await tokenLogprobs(logits, targets).data();
    expect(lp[0]).toBeCloseTo(Math.log(0.5), 6);
    expect(lp[1]).toBeCloseTo(Math.log(1 / 3), 6);
    const ce = await maskedCrossEntropy(logits, targets, tf.tensor2d([[1, 0]])).data();
    expect(ce[0]).toBeCloseTo(Math.log(2), 6); // only the first position counts
  });

  test('the gradient is dy · (onehot(target) - softmax), as finite differences say', async () => {
    // d lp[0] / d logits[0]: softmax = [1, 2, 3] / 6, target 2 → [-1/6, -2/6, 1 - 3/6].
    const logits = tf.tensor3d([[[0, Math.log(2), Math.log(3)]]]);
    const targets = tf.tensor2d([[2]], undefined, 'int32');
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tokenLogprobs(x as tf.Tensor3D, targets)));
    expect(Array.from(await grad(logits).data()).map((g) => +g.toFixed(6))).toEqual([
      -0.166667, -0.333333, 0.5,
    ]);
    // Against central differences on random logits, two positions, weights dy = [1, -2].
    const x = tf.randomNormal([1, 2, 5], 0, 1, 'float32', 3) as tf.Tensor3D;
    const t = tf.tensor2d([[4, 0]], undefined, 'int32');
    const dy = tf.tensor2d([[1, -2]]);
    const f = (z: tf.Tensor) => tf.sum(tf.mul(tokenLogprobs(z as tf.Tensor3D, t), dy));
    const analytic = await tf.grad(f)(x).data();
    const base = await x.data();
    const h = 1e-2;
    for (let i = 0; i < base.length; i++) {
      const at = async (d: number) => {
        const moved = Float32Array.from(base);
        moved[i]! += d;
        return (await f(tf.tensor3d(moved, [1, 2, 5])).data())[0]!;
      };
      expect(analytic[i]).toBeCloseTo(((await at(h)) - (await at(-h))) / (2 * h), 2);
    }
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
