import type { BackendName, CrossCheckResult, CrossCheckSide } from '../domain/backend.ts';
import { makeMlpProblem, uniformArray } from './reference.ts';
import { mulberry32 } from '../util/random.ts';
import { matmulOnBackend, trainMlpOnBackend } from './tf-checks.ts';

/** Shape of the cross-check's MLP, next to its matmul size. */
const mlpShape = { n: 32, d: 16, h: 32 };

async function runSide(
  backend: BackendName,
  size: number,
  steps: number,
  seed: number,
): Promise<CrossCheckSide> {
  const rand = mulberry32(seed);
  const a = uniformArray(rand, size * size);
  const b = uniformArray(rand, size * size);
  const matmul = await matmulOnBackend(a, b, size, size, size);
  const prob = makeMlpProblem(seed + 1, mlpShape.n, mlpShape.d, mlpShape.h);
  const { losses, weights } = await trainMlpOnBackend(prob, steps);
  return { backend, matmul: Array.from(matmul), losses, weights };
}

function maxAbsDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? NaN))), 0);
}

/**
 * Runs the same seeded matmul [size, size] and `steps` Adam steps of a small MLP on the active
 * backend and on tfjs's CPU backend, and reports how far apart they are. `useBackend`
 * switches tfjs's active backend.
 */
export async function crossCheck(
  active: BackendName,
  useBackend: (name: BackendName) => Promise<void>,
  size: number,
  steps: number,
  seed: number,
): Promise<CrossCheckResult> {
  const onActive = await runSide(active, size, steps, seed);
  await useBackend('cpu');
  try {
    const onCpu = await runSide('cpu', size, steps, seed);
    return {
      active: onActive,
      cpu: onCpu,
      matmulMaxAbsDiff: maxAbsDiff(onActive.matmul, onCpu.matmul),
      lossMaxRelDiff: onActive.losses.reduce(
        (m, l, i) => Math.max(m, Math.abs(l - onCpu.losses[i]!) / Math.abs(onCpu.losses[i]!)),
        0,
      ),
      weightMaxAbsDiff: maxAbsDiff(onActive.weights, onCpu.weights),
    };
  } finally {
    await useBackend(active);
  }
}
