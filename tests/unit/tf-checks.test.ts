import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, expect, test } from 'vitest';
import {
  makeMlpProblem,
  matmulRef,
  maxRelError,
  trainMlpRef,
  uniformArray,
} from '../../src/lib/backend/reference.ts';
import { mulberry32 } from '../../src/lib/util/random.ts';
import { matmulOnBackend, TfMlp, trainMlpOnBackend } from '../../src/lib/backend/tf-checks.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test('tfjs matmul on the CPU backend matches the float64 reference', async () => {
  const rand = mulberry32(5);
  const a = uniformArray(rand, 7 * 9);
  const b = uniformArray(rand, 9 * 4);
  const got = await matmulOnBackend(a, b, 7, 9, 4);
  expect(maxRelError(got, matmulRef(a, b, 7, 9, 4))).toBeLessThan(1e-6);
});

test('the tfjs MLP with Adam follows the float64 reference step by step', async () => {
  const prob = makeMlpProblem(9, 16, 8, 12);
  const got = await trainMlpOnBackend(prob, 5);
  const want = trainMlpRef(prob, 5);
  expect(maxRelError(got.losses, want.losses)).toBeLessThan(1e-5);
  expect(maxRelError(got.weights, want.weights)).toBeLessThan(1e-5);
});

test('two training steps change every weight, keep the loss finite and leak no tensor', async () => {
  const before = tf.memory().numTensors;
  const prob = makeMlpProblem(2, 8, 4, 6);
  const net = new TfMlp(prob);
  const initial = await net.weights();
  const losses = [await net.step(), await net.step()];
  const after = await net.weights();
  net.dispose();
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(after.every((w, i) => w !== initial[i])).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
});
