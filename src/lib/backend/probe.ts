import { describeError } from '../domain/errors.ts';
import type { BackendName, CandidateReport } from '../domain/backend.ts';
import { correctnessTolerance } from './choose.ts';
import { makeMlpProblem, matmulRef, maxRelError, trainMlpRef, uniformArray } from './reference.ts';
import { mulberry32 } from '../util/random.ts';
import { matmulOnBackend, TfMlp } from './tf-checks.ts';

/**
 * The start-up micro-benchmark: on one backend, a 256x256 matmul and one Adam step of a small
 * MLP, each timed after a warm-up run (which compiles shaders), with the warm-up's results
 * checked against the float64 reference. A few tens of milliseconds on WASM.
 */
export const probeShape = { matmul: 256, mlp: { n: 64, d: 64, h: 128 }, seed: 7 } as const;

interface ProbeInputs {
  a: Float32Array; // [256, 256]
  b: Float32Array; // [256, 256]
  product: Float64Array; // reference a x b
  mlp: ReturnType<typeof makeMlpProblem>;
  trained: { losses: number[]; weights: number[] }; // reference after 2 steps
}

let inputs: ProbeInputs | null = null;

/** Inputs and float64 answers, computed once per worker and shared by every probe. */
function probeInputs(): ProbeInputs {
  if (inputs) return inputs;
  const n = probeShape.matmul;
  const rand = mulberry32(probeShape.seed);
  const a = uniformArray(rand, n * n);
  const b = uniformArray(rand, n * n);
  const { n: rows, d, h } = probeShape.mlp;
  const mlp = makeMlpProblem(probeShape.seed, rows, d, h);
  inputs = { a, b, product: matmulRef(a, b, n, n, n), mlp, trained: trainMlpRef(mlp, 2) };
  return inputs;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

/** Probes `name`, which `activate` makes the active tfjs backend (or throws). */
export async function probeBackend(
  name: BackendName,
  activate: (name: BackendName) => Promise<void>,
): Promise<CandidateReport> {
  const start = performance.now();
  const base: CandidateReport = {
    backend: name,
    available: false,
    correct: null,
    maxRelError: null,
    matmulMs: null,
    trainStepMs: null,
    probeMs: null,
    verdict: 'rejected',
    reason: '',
  };
  try {
    await activate(name);
  } catch (error) {
    return {
      ...base,
      reason: `failed to start: ${describeError(error)}`,
    };
  }
  const { a, b, product, mlp, trained } = probeInputs();
  const n = probeShape.matmul;
  const warm = await matmulOnBackend(a, b, n, n, n);
  const matmul = await timed(() => matmulOnBackend(a, b, n, n, n));

  const net = new TfMlp(mlp);
  try {
    const firstLoss = await net.step(); // warm-up, also the first checked loss
    const step = await timed(() => net.step());
    const weights = await net.weights();
    const error = Math.max(
      maxRelError(warm, product),
      maxRelError(matmul.value, product),
      maxRelError([firstLoss, step.value], trained.losses),
      maxRelError(weights, trained.weights),
    );
    return {
      ...base,
      available: true,
      correct: error <= correctnessTolerance,
      maxRelError: error,
      matmulMs: matmul.ms,
      trainStepMs: step.ms,
      probeMs: performance.now() - start,
      reason: 'measured',
    };
  } finally {
    net.dispose();
  }
}
