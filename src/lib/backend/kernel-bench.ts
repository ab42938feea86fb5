import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { BackendName } from '../domain/backend.ts';
import type { KernelBenchRow, KernelBenchShape } from '../domain/kernels.ts';
import type { KernelSetName } from '../domain/backend.ts';
import type { ModelConfig } from '../model/architecture/config.ts';
import { AdamW } from '../training/adamw.ts';
import { runFull, runStep } from '../model/generation/generate.ts';
import { LlamaModel, type KvCache } from '../model/architecture/llama.ts';
import { trainStep } from '../training/train-step.ts';
import { withKernelSet } from '../kernels/kernel-set.ts';
import { median } from './matmul-bench.ts';
import { modelSourceOrThrow } from '../domain/model-id.ts';
import { PolicySession } from '../model/generation/policy-session.ts';
import { randomBatch } from './train-bench.ts';

/**
 * How many kernels one training step and one cached decode step launch, and how long each
 * takes, per backend and kernel set (`npm run bench -- --only kernels`). On WebGPU a kernel is
 * a GPU dispatch (counted where tfjs records it); on WASM and CPU, a kernel call that does work
 * (tf.profile's kernels less the shape-only ones, which move no data).
 */

/** Kernels that only relabel a tensor's shape: no dispatch, no pass over the data. */
const shapeOnly = new Set(['Reshape', 'ExpandDims', 'Squeeze', 'Identity']);

/** Counts GPU dispatches on WebGPU while `work` runs (it must await its results). */
async function countDispatches(work: () => Promise<void>): Promise<number> {
  if (tf.getBackend() !== 'webgpu') {
    const info = await tf.profile(work);
    return info.kernels.filter((k) => !shapeOnly.has(k.name)).length;
  }
  const backend = tf.backend() as unknown as { recordAndSubmit: (...args: unknown[]) => void };
  const original = backend.recordAndSubmit;
  let count = 0;
  backend.recordAndSubmit = function (this: WebGPUBackend, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    backend.recordAndSubmit = original;
  }
  return count;
}

/**
 * Times `step` under each kernel set on one model: a warm-up and a dispatch count per set, then
 * `reps` rounds taking the sets in turn (in alternating order), so that no set gains from
 * running later on a warmer or quieter machine.
 */
async function measureSets(step: () => Promise<void>, sets: KernelSetName[], reps: number) {
  const dispatches = new Map<KernelSetName, number>();
  const times = new Map<KernelSetName, number[]>(sets.map((set) => [set, []]));
  for (const set of sets)
    await withKernelSet(set, async () => {
      await step(); // warm-up: shader compilation, buffer allocation, cached weights
      dispatches.set(set, await countDispatches(step));
    });
  for (let r = 0; r < reps; r++)
    for (const set of r % 2 ? [...sets].reverse() : sets)
      await withKernelSet(set, async () => {
        const start = performance.now();
        await step();
        times.get(set)!.push(performance.now() - start);
      });
  return sets.map((kernels) => ({
    kernels,
    dispatches: dispatches.get(kernels)!,
    ms: median(times.get(kernels)!),
  }));
}

/** One AdamW training step of next-token loss on random tokens, the loss read back. */
async function trainRows(config: ModelConfig, shape: KernelBenchShape, sets: KernelSetName[]) {
  if (!shape.train) throw new Error('No training shape: this bench times decode steps only.');
  const model = LlamaModel.init(config, 1);
  const optimizer = new AdamW(model.trainable());
  const data = randomBatch(config.vocab_size, shape.train.batch, shape.train.seq, 7);
  try {
    const step = async () => void (await trainStep(model, optimizer, data, 1e-4));
    return await measureSets(step, sets, shape.reps);
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** One cached decode step (generation's: one token per row, logits read back). */
async function decodeRows(config: ModelConfig, shape: KernelBenchShape, sets: KernelSetName[]) {
  const model = LlamaModel.init(config, 1);
  const { batch, past } = shape.decode;
  const ids = Array.from({ length: batch }, (_, b) =>
    Array.from({ length: past }, (_, t) => (b * 31 + t * 7) % config.vocab_size),
  );
  const mask = ids.map((row) => row.map(() => 1));
  const prefill = runFull(model, ids, mask, true);
  const cache: KvCache = { keys: prefill.keys, values: prefill.values, length: past };
  const stepMask = mask.map((row) => [...row, 1]);
  const tokens = ids.map(() => 1);
  const positions = ids.map(() => past);
  const step = async () => {
    const next = runStep(model, tokens, positions, stepMask, cache);
    await next.logits.data();
    tf.dispose([next.logits, ...next.keys, ...next.values]);
  };
  try {
    return await model.withFrozenWeights(() => measureSets(step, sets, shape.reps));
  } finally {
    tf.dispose([prefill.logits, ...prefill.keys, ...prefill.values]);
    model.dispose();
  }
}

/** The architecture a kernel bench request names: a model folder of this app, or a config. */
export async function benchConfig(
  request: { model: string } | { config: ModelConfig },
): Promise<ModelConfig> {
  if ('config' in request) return request.config;
  if (modelSourceOrThrow(request.model) !== 'local')
    throw new Error(`The kernel bench reads a model folder of this app, not "${request.model}".`);
  return PolicySession.readConfig(`/models/${request.model}/`);
}

/**
 * Rows for each backend in `backends` (activated in turn) and kernel set (fused only where it
 * differs from stock: WebGPU), for a training step and a decode step of `config`: the sets of
 * one backend and step time the same model in turn.
 */
export async function benchKernels(
  config: ModelConfig,
  backends: BackendName[],
  shape: KernelBenchShape,
  hooks: {
    activate: (name: BackendName) => Promise<void>;
    onProgress: (done: number, total: number, message: string) => void;
    shouldStop: () => Promise<void>;
  },
): Promise<KernelBenchRow[]> {
  const steps = shape.train ? (['train', 'decode'] as const) : (['decode'] as const);
  const rows: KernelBenchRow[] = [];
  for (const [i, backend] of backends.entries()) {
    // Fused kernels act on WebGPU only: elsewhere both sets would run the same ops.
    const sets: KernelSetName[] = backend === 'webgpu' ? ['stock', 'fused'] : ['stock'];
    for (const [j, step] of steps.entries()) {
      await hooks.shouldStop();
      const done = i * steps.length + j;
      hooks.onProgress(done, backends.length * steps.length, `${step} step, ${backend}`);
      await hooks.activate(backend);
      const measured =
        step === 'train'
          ? await trainRows(config, shape, sets)
          : await decodeRows(config, shape, sets);
      rows.push(...measured.map((m) => ({ backend, step, ...m })));
    }
  }
  return rows;
}
