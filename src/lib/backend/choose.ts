import type {
  AdapterInfo,
  BackendName,
  BackendPreference,
  CandidateReport,
} from '../domain/backend.ts';

/**
 * The backend decision, as a pure function of what the probe measured: no tfjs, no timing,
 * so every rule is unit-tested.
 *
 * Rules, in auto mode:
 * 1. A backend that failed to start, or whose results differ from the float64 reference by
 *    more than `correctnessTolerance`, is rejected.
 * 2. A software (fallback) WebGPU adapter such as SwiftShader never wins over a correct WASM.
 * 3. Of the rest, the one with the shortest micro-benchmark (matmul + one Adam step) wins.
 * A forced backend (URL parameter) wins when it starts and is correct; otherwise the auto
 * rules pick among the others and the reason says what happened to the forced one.
 */

/** Largest relative error a backend may show against the float64 reference. */
export const correctnessTolerance = 1e-3;

export interface Decision {
  backend: BackendName;
  reason: string;
  candidates: CandidateReport[];
  /** Eligible backends, best first: the chosen one, then the fallbacks in order. */
  ranking: BackendName[];
}

/** Milliseconds of the measured work that decides speed. */
export function score(c: CandidateReport): number {
  return (c.matmulMs ?? Infinity) + (c.trainStepMs ?? Infinity);
}

export function formatMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toPrecision(2)} ms`;
}

function isSoftwareGpu(c: CandidateReport, adapter: AdapterInfo | null): boolean {
  return c.backend === 'webgpu' && Boolean(adapter?.isFallbackAdapter);
}

function adapterName(adapter: AdapterInfo | null): string {
  if (!adapter) return 'unknown adapter';
  const name = [adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' ');
  return name || adapter.description || 'unnamed adapter';
}

/** Why a backend cannot be used at all, or null when it can. */
function unusableReason(c: CandidateReport): string | null {
  if (!c.available) return c.reason || 'not available';
  if (c.correct === false)
    return `wrong results: off by ${(c.maxRelError ?? NaN).toExponential(1)} (relative) from the float64 reference`;
  return null;
}

/** Orders usable candidates: fastest first, but a software GPU always after WASM. */
function rank(usable: CandidateReport[], adapter: AdapterInfo | null): CandidateReport[] {
  const wasmOk = usable.some((c) => c.backend === 'wasm');
  const penalty = (c: CandidateReport) => (wasmOk && isSoftwareGpu(c, adapter) ? 1 : 0);
  return [...usable].sort((a, b) => penalty(a) - penalty(b) || score(a) - score(b));
}

function rejection(c: CandidateReport, best: CandidateReport, adapter: AdapterInfo | null): string {
  const measured = `${formatMs(score(c))} vs ${formatMs(score(best))} for ${best.backend}`;
  if (isSoftwareGpu(c, adapter) && best.backend === 'wasm')
    return `software adapter (${adapterName(adapter)}, isFallbackAdapter): it emulates a GPU on the CPU, so WASM is preferred (measured ${measured})`;
  return `slower: ${measured}`;
}

function chosenReason(
  best: CandidateReport,
  ranked: CandidateReport[],
  adapter: AdapterInfo | null,
): string {
  const gpu = best.backend === 'webgpu' ? ` on ${adapterName(adapter)}` : '';
  const others = ranked.slice(1).map((c) => `${c.backend} ${formatMs(score(c))}`);
  const versus = others.length ? ` (vs ${others.join(', ')})` : '';
  return `fastest correct backend${gpu}: ${formatMs(score(best))} for a 256² matmul and one Adam step${versus}`;
}

export function chooseBackend(
  measured: CandidateReport[],
  adapter: AdapterInfo | null,
  preference: BackendPreference,
): Decision {
  const usable = measured.filter((c) => unusableReason(c) === null);
  const forced = preference === 'auto' ? undefined : measured.find((c) => c.backend === preference);
  const forcedOk = forced && usable.includes(forced);
  const ranked = rank(usable, adapter);
  const best = forcedOk ? forced : ranked[0];
  if (!best)
    throw new Error('No tfjs backend works in this browser: ' + describeFailures(measured));
  const ranking = [best, ...ranked.filter((c) => c !== best)].map((c) => c.backend);

  let reason: string;
  if (forcedOk) reason = `forced by ?backend=${preference} in the URL`;
  else if (preference !== 'auto')
    reason = `?backend=${preference} was asked for but ${forced ? unusableReason(forced) : 'it was not tried'}; ${chosenReason(best, ranked, adapter)}`;
  else reason = chosenReason(best, ranked, adapter);

  const candidates = measured.map((c): CandidateReport => {
    if (c === best) return { ...c, verdict: 'chosen', reason };
    const bad = unusableReason(c);
    if (bad) return { ...c, verdict: 'rejected', reason: bad };
    if (c.matmulMs === null) return { ...c, verdict: 'not tested', reason: c.reason };
    if (forcedOk)
      return { ...c, verdict: 'rejected', reason: `not used: ${preference} was forced by the URL` };
    return { ...c, verdict: 'rejected', reason: rejection(c, best, adapter) };
  });
  return { backend: best.backend, reason, candidates, ranking };
}

function describeFailures(measured: CandidateReport[]): string {
  return measured.map((c) => `${c.backend}: ${unusableReason(c) ?? 'unknown'}`).join('; ');
}
