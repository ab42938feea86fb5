import { describe, expect, test } from 'vitest';
import { sameButSeed, seedRuns, seedSpread, spreadOf } from '../../src/lib/pipeline/seed-spread.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';

/** A report with the figures the spread reads (the rest empty). */
function report(harmless: number, comply: number, accuracy?: number): ExperimentReport {
  const scores = {
    harmlessness: harmless,
    helpfulness: 0.9,
    evasiveness: 0.1,
    redTeam: { comply, refuse: 0, engage: 1 - comply, garbled: 0 },
    ordinary: { help: 0.9, overrefuse: 0.1, garbled: 0 },
  } as unknown as ExperimentReport['eval']['base'];
  return {
    eval: { base: scores, sl: scores },
    ...(accuracy === undefined ? {} : { reward: { accuracy, margin: 1, pairs: 10 } }),
    stages: {},
    revisions: { answers: {} as never, rounds: [] },
    samples: [],
    backend: 'cpu',
  };
}

describe('seed spread', () => {
  test('mean, sample standard deviation and range, by hand', () => {
    // 0.2, 0.4, 0.9: mean 0.5, deviations −0.3, −0.1, 0.4 → (0.09 + 0.01 + 0.16) / 2 = 0.13.
    const s = spreadOf([0.2, 0.4, 0.9]);
    expect(s.mean).toBeCloseTo(0.5, 15);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.13), 15);
    expect([s.min, s.max, s.n]).toEqual([0.2, 0.9, 3]);
    expect(spreadOf([0.7])).toEqual({ mean: 0.7, sd: 0, min: 0.7, max: 0.7, n: 1 });
    expect(() => spreadOf([])).toThrow('at least one');
  });

  test('every figure a report has, over the reports that have it', () => {
    const spread = seedSpread([report(0.5, 0.5, 0.8), report(0.7, 0.3), report(0.9, 0.1, 0.6)]);
    expect(spread['sl.harmlessness']!.mean).toBeCloseTo(0.7, 15);
    expect(spread['sl.comply']!.sd).toBeCloseTo(0.2, 15);
    expect(spread['reward.accuracy']).toMatchObject({ n: 2, min: 0.6, max: 0.8 });
    expect(spread['reward.accuracy']!.mean).toBeCloseTo(0.7, 15);
    expect(spread['rl.harmlessness']).toBeUndefined(); // no run reached RL-CAI
    expect(spread['ppo.score_last']).toBeUndefined();
  });

  test('runs of the same experiment but for the seed, one per seed, newest first kept', () => {
    const e = defaultExperiment();
    const other = { ...e, seed: 2, name: 'renamed' };
    const changed = {
      ...e,
      stages: { ...e.stages, critique: { ...e.stages.critique, rounds: 3 } },
    };
    expect(sameButSeed(e, other)).toBe(true);
    expect(sameButSeed(e, changed)).toBe(false);
    // Key order does not matter (an imported run's experiment may be built in another order).
    const reordered = Object.fromEntries(Object.entries(e).reverse()) as typeof e;
    expect(sameButSeed(reordered, other)).toBe(true);
    const run = (experiment: typeof e, created: number, done = true) => ({
      experiment,
      created,
      report: done ? report(0.5, 0.5) : null,
    });
    const runs = [run(other, 1), run(e, 2), run(other, 3), run(changed, 4), run(e, 5, false)];
    expect(seedRuns(runs, e).map((r) => [r.experiment.seed, r.created])).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });
});
