import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AdamW } from '../../src/lib/training/adamw.ts';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { trainStep } from '../../src/lib/training/train-step.ts';
import { headLogprobs } from '../../src/lib/ops/head-logprobs.ts';
import { matMul } from '../../src/lib/ops/matmul.ts';
import { expectAllChanged, snapshot, testConfig } from './model-helpers.ts';
import './tf-setup.ts';

/**
 * The WASM backend's own paths in matMul (no transpose flags, batched products split into 2D
 * ones, or not): the browser runs them, so they are checked here too, against the CPU backend.
 */
beforeAll(async () => {
  setWasmPaths(resolve(join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')) + '/');
  expect(await tf.setBackend('wasm')).toBe(true);
  expect(getThreadsCount()).toBeGreaterThanOrEqual(1);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

async function onBackend<T>(name: string, work: () => Promise<T>): Promise<T> {
  const before = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await work();
  } finally {
    await tf.setBackend(before);
  }
}

test('batched products and their gradients match the CPU backend for 1, 2 and 3 slices, few rows and many', async () => {
  for (const [lead, m] of [
    [[1, 1], 20],
    [[2, 1], 20],
    [[3, 1], 2],
    [[1, 1], 1],
  ] as const) {
    const a = () => tf.randomNormal([...lead, m, 5], 0, 1, 'float32', 1);
    const b = () => tf.randomNormal([...lead, 7, 5], 0, 1, 'float32', 2);
    const run = async () => {
      const [x, y] = [a(), b()];
      const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(matMul(p, q, false, true)));
      const [gx, gy] = tf.grads(f)([x, y]);
      const out = [await f(x, y).data(), await gx!.data(), await gy!.data()].map((d) =>
        Array.from(d),
      );
      tf.dispose([x, y, gx!, gy!]);
      return out;
    };
    const wasm = await run();
    const cpu = await onBackend('cpu', run);
    wasm.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(cpu[i]![j]!, 3)));
  }
});

test('a training step of one row with grouped-query attention: loss finite, every weight changed', async () => {
  const config = testConfig({ num_attention_heads: 2, num_key_value_heads: 1 });
  const model = LlamaModel.init(config, 3);
  const optimizer = new AdamW(model.params);
  const before = await snapshot(model.params);
  // 9 tokens, 2 query heads per key head: 18 rows per product, so the split path runs.
  const batch = {
    ids: [[1, 5, 6, 7, 8, 9, 10, 11, 12]],
    targets: [[5, 6, 7, 8, 9, 10, 11, 12, 2]],
    lossMask: [[0, 1, 1, 1, 1, 1, 1, 1, 1]],
    keyMask: [[1, 1, 1, 1, 1, 1, 1, 1, 1]],
  };
  for (let i = 0; i < 2; i++) {
    const { loss } = await trainStep(model, optimizer, batch, 1e-2);
    expect(Number.isFinite(loss)).toBe(true);
  }
  await expectAllChanged(model.params, before);
  model.dispose();
  optimizer.dispose();
});

test('log-probs through the head in chunks, and their gradients, match the CPU backend', async () => {
  for (const chunkElements of [14, 1 << 20])
    for (const trainHead of [true, false]) {
      const run = async () => {
        const h = tf.randomNormal([6, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
        const w = tf.randomNormal([7, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
        const t = tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32');
        const f = (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(
            headLogprobs(x as tf.Tensor2D, y as tf.Tensor2D, t, { trainHead, chunkElements })
              .logprobs,
          );
        const grads = trainHead ? tf.grads(f)([h, w]) : tf.grads((x: tf.Tensor) => f(x, w))([h]);
        const out = [await f(h, w).data(), ...(await Promise.all(grads.map((g) => g.data())))].map(
          (d) => Array.from(d),
        );
        tf.dispose([h, w, t, ...grads]);
        return out;
      };
      const wasm = await run();
      const cpu = await onBackend('cpu', run);
      wasm.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(cpu[i]![j]!, 4)));
    }
});
