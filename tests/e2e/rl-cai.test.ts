import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { stepsOf } from '../../src/lib/pipeline/steps.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { withFirstPrompts } from '../../src/lib/experiment/experiment.ts';
import { launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

type Handle = PlaygroundHandle;

/** TRL's PPO metric names, which every iteration reports. */
const ppoMetrics = [
  'loss/policy_avg',
  'loss/value_avg',
  'objective/entropy',
  'objective/kl',
  'objective/non_score_reward',
  'objective/rlhf_reward',
  'objective/scores',
  'policy/approxkl_avg',
  'policy/clipfrac_avg',
  'policy/entropy_avg',
  'train/lr',
  'val/clipfrac_avg',
  'val/num_eos_tokens',
  'val/ratio',
  'val/ratio_var',
];

test('RL-CAI runs labels → reward model → PPO (2 iterations) in the workers, with TRL metric events', async () => {
  const { page, problems } = await openApp(browser);
  const experiment = withFirstPrompts(
    await page.evaluate(() =>
      (globalThis as unknown as { caiPlayground: Handle }).caiPlayground.defaultExperiment(),
    ),
    { redTeam: 4, ordinary: 2, heldOutRedTeam: 2, heldOutOrdinary: 1 },
  );
  experiment.stages.critique.rounds = 1;
  experiment.stages.sft.epochs = 1;
  experiment.stages.reward.batchSize = 2;
  experiment.stages.reward.heldOutShare = 0.25;
  Object.assign(experiment.stages.ppo, { iterations: 2, batchSize: 4, responseLength: 32 });
  const { events, report, streamed } = await page.evaluate(async (data) => {
    const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
    const events: PipelineEvent[] = [];
    // PPO's streamed rollouts, joined per key (the page shows them as they are written).
    const streamed: Record<string, string> = {};
    const { report } = await g.runExperiment(data, 'all', (e) => {
      if (e.type !== 'token') events.push(e);
      else if (e.stage === 'ppo') streamed[e.key] = (streamed[e.key] ?? '') + e.delta;
    });
    return { events, report, streamed };
  }, experiment);

  // Every trainer shows progress from its first step to its last (the page's bar and time left).
  for (const stage of ['sft', 'reward', 'ppo'] as const) {
    const progress = events.flatMap((e) =>
      e.type === 'progress' && e.stage === stage ? [[e.done, e.total]] : [],
    );
    expect(progress.length, stage).toBeGreaterThan(1);
    expect(progress[0]![0], stage).toBe(0);
    expect(progress.at(-1)![0], stage).toBe(progress.at(-1)![1]);
  }
  expect(
    events.flatMap((e) => (e.type === 'progress' && e.stage === 'ppo' ? [e.message] : [])),
  ).toEqual(['iteration 0 of 2', 'iteration 1 of 2', 'iteration 2 of 2']);

  const stages = events
    .filter((e) => e.type === 'stage-start')
    .map((e) => e.type === 'stage-start' && e.step);
  // The steps the page lists are the steps the pipeline runs.
  expect(stages).toEqual(stepsOf('all', 'ppo').map((s) => s.id));

  // Labels: two different answers compared under a principle of the constitution.
  const prefs = events.flatMap((e) => (e.type === 'preference' ? [e.record] : []));
  expect(prefs.length).toBeGreaterThan(0);
  for (const p of prefs) {
    expect(experiment.constitution).toContain(p.principle);
    expect(p.responseA).not.toBe(p.responseB);
    expect(p.probabilityA).toBeGreaterThanOrEqual(0);
    expect(p.probabilityA).toBeLessThanOrEqual(1);
    expect(p.label).toBeGreaterThanOrEqual(0.5);
    expect(p.chosen).toBe(p.probabilityA >= 0.5 ? p.responseA : p.responseB);
  }

  // Reward model: per-step statistics, then held-out ones per epoch.
  const reward = events.filter((e) => e.type === 'metrics' && e.stage === 'reward');
  const rewardKeys = new Set(
    reward.flatMap((e) => (e.type === 'metrics' ? Object.keys(e.values) : [])),
  );
  for (const k of [
    'loss',
    'accuracy',
    'margin',
    'min_reward',
    'mean_reward',
    'max_reward',
    'eval/accuracy',
    'eval/margin',
  ])
    expect(rewardKeys.has(k), k).toBe(true);

  // PPO: each iteration reports every TRL metric, finite, then its samples.
  const ppo = events.filter((e) => e.type === 'metrics' && e.stage === 'ppo');
  expect(ppo.map((e) => e.type === 'metrics' && e.step)).toEqual([1, 2]);
  for (const e of ppo) {
    if (e.type !== 'metrics') continue;
    expect(Object.keys(e.values).sort()).toEqual(ppoMetrics);
    for (const v of Object.values(e.values)) expect(Number.isFinite(v)).toBe(true);
  }
  const samples = events.filter((e) => e.type === 'samples');
  expect(samples.map((e) => e.type === 'samples' && e.samples.length)).toEqual([4, 4]);
  const order = events
    .filter((e) => (e.type === 'metrics' && e.stage === 'ppo') || e.type === 'samples')
    .map((e) => e.type);
  expect(order).toEqual(['metrics', 'samples', 'metrics', 'samples']);
  // Each rollout streamed token by token before its iteration's samples: the same text.
  for (const e of samples)
    if (e.type === 'samples')
      e.samples.forEach((s, row) =>
        expect(streamed[`ppo-${e.step}-${row}`] ?? '', `iteration ${e.step} row ${row}`).toBe(
          s.response,
        ),
      );

  expect(report.eval.rl).toBeDefined();
  expect(report.ppo).toMatchObject({ iterations: 2 });
  // The report's accuracy is the reward model's last held-out evaluation.
  const rewardEvals = events.flatMap((e) =>
    e.type === 'metrics' && e.stage === 'reward' && 'eval/accuracy' in e.values ? [e.values] : [],
  );
  expect(rewardEvals.length).toBeGreaterThan(0);
  expect(report.reward!.accuracy).toBe(rewardEvals.at(-1)!['eval/accuracy']);

  for (const policy of ['base', 'sl', 'rl'] as const)
    expect(Number.isFinite(report.eval[policy]!.reward)).toBe(true);
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 300_000);
