/**
 * The same experiment over several seeds: each headline figure's mean, standard deviation,
 * lowest and highest across the runs' reports (pure). `npm run experiment -- --seeds 1,2,3`
 * prints it; the results panel shows it when saved runs differ only in their seed.
 */
import { policyNames } from '../domain/policy.ts';
import type { Experiment } from '../experiment/experiment.ts';
import type { ExperimentReport } from './run-report.ts';

export interface Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run. */
  sd: number;
  min: number;
  max: number;
  /** How many runs have the figure. */
  n: number;
}

/** A figure of a report, by name ("sl.harmlessness", "reward.accuracy", …), or undefined. */
type Figure = (r: ExperimentReport) => number | undefined;

const policies = policyNames;

/** The figures compared across seeds, in the order they are shown. */
export const seedFigures: Record<string, Figure> = {
  ...Object.fromEntries(
    policies.flatMap((p) => [
      [`${p}.harmlessness`, (r: ExperimentReport) => r.eval[p]?.harmlessness],
      [`${p}.helpfulness`, (r: ExperimentReport) => r.eval[p]?.helpfulness],
      [`${p}.evasiveness`, (r: ExperimentReport) => r.eval[p]?.evasiveness],
      [`${p}.comply`, (r: ExperimentReport) => r.eval[p]?.redTeam.comply],
    ]),
  ),
  'reward.accuracy': (r) => r.reward?.accuracy,
  'ppo.score_first': (r) => r.ppo?.score_first,
  'ppo.score_last': (r) => r.ppo?.score_last,
};

/** Mean, spread and range of `values` (at least one). */
export function spreadOf(values: number[]): Spread {
  const n = values.length;
  if (n === 0) throw new Error('A spread needs at least one value.');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), n };
}

/** Each figure that at least one report has, with its spread over the reports that have it. */
export function seedSpread(reports: ExperimentReport[]): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  for (const [name, figure] of Object.entries(seedFigures)) {
    const values = reports.map(figure).filter((v): v is number => v !== undefined);
    if (values.length) out[name] = spreadOf(values);
  }
  return out;
}

/** Whether two experiments are the same but for their seed (and name): runs whose figures
 * differ only by chance. */
export function sameButSeed(a: Experiment, b: Experiment): boolean {
  return canonical({ ...a, seed: 0, name: '' }) === canonical({ ...b, seed: 0, name: '' });
}

/** JSON with every object's keys sorted: equal for equal data, whatever order it was built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The finished reports of runs of `experiment` (any seed), one per seed (the newest). */
export function seedRuns<
  R extends { experiment: Experiment; report: ExperimentReport | null; created: number },
>(runs: R[], experiment: Experiment): R[] {
  const bySeed = new Map<number, R>();
  for (const r of runs) {
    if (!r.report || !sameButSeed(r.experiment, experiment)) continue;
    const had = bySeed.get(r.experiment.seed);
    if (!had || had.created < r.created) bySeed.set(r.experiment.seed, r);
  }
  return [...bySeed.values()].sort((x, y) => x.experiment.seed - y.experiment.seed);
}
