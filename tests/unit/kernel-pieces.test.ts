import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';
import { useCpu } from './tf-setup.ts';
import { TransposeCache } from '../../src/lib/model/architecture/transposes.ts';
import { AdamW } from '../../src/lib/training/adamw.ts';
import { kernelsTable } from '../../scripts/lib/bench-kernels.ts';
import { fusedKernels, kernelSet, withKernelSet } from '../../src/lib/kernels/kernel-set.ts';

beforeAll(useCpu);

test('joined weights: the transpose of the stacked weights, made once and freed after generation', async () => {
  const q = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]); // [out 2, in 2]
  const k = tf.tensor2d([[5, 6]]); // [out 1, in 2]
  const cache = new TransposeCache(true);
  expect(cache.joined([q, k])).toBeUndefined(); // outside generation: nothing cached
  const before = tf.memory().numTensors;
  await cache.during(async () => {
    const joined = cache.joined([q, k])!;
    expect(joined.shape).toEqual([2, 3]);
    expect(await joined.array()).toEqual([
      [1, 3, 5],
      [2, 4, 6],
    ]);
    expect(cache.joined([q, k])).toBe(joined);
    expect(tf.memory().numTensors).toBe(before + 1);
  });
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([q, k]);
});

test("AdamW's global norm adds any number of gradients: sqrt(Σ g²) over twenty of them", async () => {
  // Twenty gradients of ones over 3 values: Σ g² = 60, norm √60, more than one kernel's inputs.
  const params = new Map(
    Array.from({ length: 20 }, (_, i) => [`p${i}`, tf.variable(tf.zeros([3]))]),
  );
  const optimizer = new AdamW(params);
  const grads = new Map([...params.keys()].map((name) => [name, tf.ones([3])]));
  const norm = optimizer.apply(grads, 0.1);
  expect((await norm.data())[0]).toBeCloseTo(Math.sqrt(60), 5);
  norm.dispose();
  optimizer.dispose();
  tf.dispose([...params.values()]);
});

test('the kernel set: fused only acts on WebGPU, and withKernelSet restores the choice', async () => {
  expect(kernelSet()).toBe('fused');
  expect(fusedKernels()).toBe(false); // the CPU backend runs stock ops
  const inside = await withKernelSet('stock', async () => kernelSet());
  expect(inside).toBe('stock');
  expect(kernelSet()).toBe('fused');
  await expect(withKernelSet('turbo' as never, async () => 0)).rejects.toThrow(
    'Unknown kernel set "turbo": use fused or stock.',
  );
});

test('the kernels table compares each row with the stock row of its backend and step', () => {
  const shape = { train: { batch: 2, seq: 32 }, decode: { batch: 1, past: 32 }, reps: 3 };
  const rows = [
    {
      backend: 'webgpu' as const,
      kernels: 'stock' as const,
      step: 'train' as const,
      dispatches: 1200,
      ms: 2000,
    },
    {
      backend: 'webgpu' as const,
      kernels: 'fused' as const,
      step: 'train' as const,
      dispatches: 400,
      ms: 1600,
    },
  ];
  const lines = kernelsTable(rows, shape).split('\n');
  // 64 tokens in 1.6 s = 40 tokens/s; 400 of 1200 dispatches = 33%; 2000 / 1600 = 1.25x.
  expect(lines[3]).toBe('| webgpu | fused | train | 400 | 33% | 1600.0 | 1.25x | 40 |');
  expect(lines[2]).toBe('| webgpu | stock | train | 1200 | 100% | 2000.0 | 1.00x | 32 |');
});
