import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../domain/backend.ts';
import {
  kernelCheckLimit,
  type KernelCheckResult,
  type KernelCheckRow,
} from '../domain/kernels.ts';
import { kernelSet, withKernelSet } from '../kernels/kernel-set.ts';
import { mulberry32 } from '../util/random.ts';
import { uniformArray } from './reference.ts';
import { casesOf, checkShapes, type Case } from './kernel-cases.ts';
import type { Named } from './decoder-check.ts';

/**
 * Every fused kernel and its gradients against tfjs's stock ops on the CPU backend, through
 * the same functions the model calls (layers.ts, attend.ts, head-logprobs.ts, adamw.ts), so
 * what is checked is what runs. Each case builds seeded inputs, computes its output and the
 * gradient of Σ output · r (r seeded too) for every input; the active backend runs the chosen
 * kernel set, then the CPU runs stock ops on the same numbers.
 */

/** The output and gradients of a case as arrays, on the active backend. */
async function runCase(c: Case, seed: number): Promise<Named[]> {
  if ('whole' in c) return c.whole();
  const rand = mulberry32(seed);
  const made = c.inputs.map(([, shape]) =>
    uniformArray(
      rand,
      shape.reduce((a, b) => a * b, 1),
    ),
  );
  const tensors = tf.tidy(() => {
    const xs = made.map((values, i) => tf.tensor(values, c.inputs[i]![1]));
    const value = c.run(xs);
    if (!c.grads) return [value];
    const r = tf.tensor(uniformArray(rand, value.size), value.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.run(args), r)))(xs);
    return [value, ...grads];
  });
  const out = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(tensors);
  return out.map((values, i): Named => [i === 0 ? 'value' : `d ${c.inputs[i - 1]![0]}`, values]);
}

function compare(kernel: string, shape: string, active: Named[], cpu: Named[]): KernelCheckRow[] {
  return cpu.map(([output, ref], i) => {
    const got = active[i]![1];
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < ref.length; j++) {
      diff = Math.max(diff, Math.abs(got[j]! - ref[j]!));
      scale = Math.max(scale, Math.abs(ref[j]!));
    }
    if (got.length !== ref.length || !Number.isFinite(diff)) diff = Infinity;
    const limit = kernelCheckLimit(scale);
    return { kernel, shape, output, maxAbsDiff: diff, scale, limit, ok: diff <= limit };
  });
}

/**
 * Runs every case at `shapes` on the active backend with the chosen kernel set, then on the
 * CPU with stock ops (`useBackend` switches tfjs's backend; the active one is restored).
 */
export async function kernelCheck(
  active: BackendName,
  useBackend: (name: BackendName) => Promise<void>,
  { shapes, seed }: { shapes: string[]; seed: number },
): Promise<KernelCheckResult> {
  const chosen = checkShapes.filter((s) => shapes.includes(s.name));
  const unknown = shapes.filter((n) => !checkShapes.some((s) => s.name === n));
  if (unknown.length) throw new Error(`Unknown kernel-check shapes: ${unknown.join(', ')}.`);
  const jobs = chosen.flatMap((s) => casesOf(s).map((c, i) => ({ s, c, seed: seed + i })));
  const onActive: Named[][] = [];
  for (const job of jobs) onActive.push(await runCase(job.c, job.seed));
  const set = kernelSet();
  const rows: KernelCheckRow[] = [];
  await useBackend('cpu');
  try {
    await withKernelSet('stock', async () => {
      for (const [i, job] of jobs.entries())
        rows.push(
          ...compare(job.c.kernel, job.s.name, onActive[i]!, await runCase(job.c, job.seed)),
        );
    });
  } finally {
    await useBackend(active);
  }
  return { backend: active, kernels: set, rows, ok: rows.every((r) => r.ok) };
}
