import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { batchInputs } from '../../src/lib/model/architecture/layers.ts';
import { runSft, sftBatch, sftEvalLoss, type SftSequence } from '../../src/lib/training/sft.ts';
import { lmLoss } from '../../src/lib/training/train-step.ts';
import { defaultStageConfigs } from '../../src/lib/experiment/stage-configs.ts';
import { expectAllChanged, snapshot, testConfig } from './model-helpers.ts';
import { useCpu } from './tf-setup.ts';

const config = testConfig();

const rows: SftSequence[] = [
  { prompt: [1, 5, 6], response: [7, 8, 2] },
  { prompt: [1, 9], response: [10, 2] },
];

beforeAll(useCpu);

describe('SFT batches', () => {
  test('the loss counts response tokens only; padding is masked from keys and loss', () => {
    const b = sftBatch(rows, 0, 32);
    // Row 0: 6 tokens → T = 5. Position t predicts token t + 1; the response starts at 3.
    expect(b.ids).toEqual([
      [1, 5, 6, 7, 8],
      [1, 9, 10, 2, 0],
    ]);
    expect(b.targets).toEqual([
      [5, 6, 7, 8, 2],
      [9, 10, 2, 0, 0],
    ]);
    expect(b.lossMask).toEqual([
      [0, 0, 1, 1, 1],
      [0, 1, 1, 0, 0],
    ]);
    expect(b.keyMask).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0],
    ]);
  });

  test('sequences longer than the context are cut', () => {
    const b = sftBatch([{ prompt: [1, 2, 3, 4], response: [5, 6, 7] }], 0, 4);
    expect(b.ids).toEqual([[1, 2, 3, 4]]);
    expect(b.lossMask).toEqual([[0, 0, 0, 1]]);
  });

  test('the SFT loss on a hand-made batch equals the mean response-token cross-entropy', async () => {
    const model = LlamaModel.init(config, 3);
    const batch = sftBatch(rows, 0, 32);
    // Reference: log-softmax of the model's logits, computed here in float64.
    const logits = tf.tidy(() =>
      model.logits(model.forward(batchInputs(batch.ids, batch.keyMask)).hidden),
    );
    const values = (await logits.array()) as number[][][];
    logits.dispose();
    let sum = 0;
    let count = 0;
    batch.lossMask.forEach((mask, b) =>
      mask.forEach((m, t) => {
        if (!m) return;
        const row = values[b]![t]!;
        const max = Math.max(...row);
        const logZ = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        sum += logZ - row[batch.targets[b]![t]!]!;
        count++;
      }),
    );
    expect(count).toBe(5);
    const loss = lmLoss(model, batch);
    expect((await loss.data())[0]).toBeCloseTo(sum / count, 5);
    loss.dispose();
    expect(await sftEvalLoss(model, rows, 1)).toBeCloseTo(sum / count, 5);
    model.dispose();
  });
});

describe('runSft', () => {
  test('2 steps: loss finite, every weight changed, metrics named as TRL logs them, no tensor leaked', async () => {
    const model = LlamaModel.init(config, 4);
    const before = await snapshot(model.params);
    const tensors = tf.memory().numTensors;
    const metrics: [number, Record<string, number>][] = [];
    const progress: string[] = [];
    const result = await runSft(
      model,
      rows,
      [rows[0]!],
      { ...defaultStageConfigs.sft, epochs: 2, batchSize: 2, learningRate: 1e-2, warmupRatio: 0 },
      7,
      {
        onEvent: (e) => {
          if (e.type === 'metrics') metrics.push([e.step, e.values]);
          if (e.type === 'progress') progress.push(`${e.done}/${e.total} ${e.message}`);
        },
      },
    );
    // Progress from the start (0 done) to the end, one event per step.
    expect(progress).toEqual(['0/2 step 0 of 2', '1/2 step 1 of 2', '2/2 step 2 of 2']);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.trainLoss)).toBe(true);
    expect(result.evalLoss).toHaveLength(2);
    expect(metrics.map(([step, v]) => [step, Object.keys(v).sort()])).toEqual([
      [1, ['train/epoch', 'train/grad_norm', 'train/loss', 'train/lr']],
      [1, ['eval/loss', 'train/epoch']],
      [2, ['train/epoch', 'train/grad_norm', 'train/loss', 'train/lr']],
      [2, ['eval/loss', 'train/epoch']],
    ]);
    await expectAllChanged(model.params, before);
    model.dispose();
  });

  test('a checkpoint that throws stops training between steps', async () => {
    const model = LlamaModel.init(config, 4);
    const tensors = tf.memory().numTensors;
    let steps = 0;
    await expect(
      runSft(model, [...rows, ...rows], [], { ...defaultStageConfigs.sft, batchSize: 1 }, 1, {
        onEvent: (e) => e.type === 'metrics' && steps++,
        checkpoint: async () => {
          if (steps === 2) throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    expect(steps).toBe(2);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });
});
