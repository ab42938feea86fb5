import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RlMethod } from '../../src/lib/domain/modes.ts';
import { encodeShareLink } from '../../src/lib/experiment/share-link.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';
import { stepsOf } from '../../src/lib/pipeline/steps.ts';
import {
  baseUrl,
  launchChromium,
  openApp,
  smallRecipe,
  type PlaygroundHandle,
} from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

type Handle = PlaygroundHandle & {
  compareMethods: (
    data: unknown,
    methods: RlMethod[],
    emit: (e: PipelineEvent) => void,
  ) => Promise<{
    shared: { report: ExperimentReport | null };
    methods: Partial<Record<RlMethod, { report: ExperimentReport | null }>>;
  }>;
};

/** TRL's metric names each method reports at every step or iteration. */
const methodMetrics: Record<'dpo' | 'grpo' | 'rloo', string[]> = {
  dpo: [
    'loss',
    'rewards/chosen',
    'rewards/rejected',
    'rewards/accuracies',
    'rewards/margins',
    'logps/chosen',
    'logps/rejected',
  ],
  grpo: ['reward', 'reward_std', 'kl', 'clip_ratio/region_mean', 'completions/mean_length', 'loss'],
  rloo: ['reward', 'reward_std', 'kl', 'completions/mean_length', 'loss'],
};

/** The small recipe with each method cut to a few steps. */
function small() {
  const e = smallRecipe(3, 1);
  e.stages.dpo.epochs = 1;
  e.stages.dpo.batchSize = 2;
  for (const m of ['grpo', 'rloo'] as const)
    Object.assign(e.stages[m], {
      iterations: 2,
      promptsPerIteration: 2,
      numGenerations: 2,
      responseLength: 24,
    });
  return e;
}

test('DPO, GRPO and RLOO each train from one SL-CAI policy and one labelling, in the workers, with TRL’s metrics', async () => {
  const { page, problems } = await openApp(browser);
  const { events, shared, methods } = await page.evaluate(async (data) => {
    const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
    const events: PipelineEvent[] = [];
    const out = await g.compareMethods(data, ['dpo', 'grpo', 'rloo'], (e) => {
      if (e.type !== 'token') events.push(e);
    });
    return { events, shared: out.shared.report, methods: out.methods };
  }, small());

  // The shared steps ran once; each method then its own step and the RL-CAI evaluation.
  const started = events.flatMap((e) => (e.type === 'stage-start' ? [e.step] : []));
  expect(started).toEqual([
    ...stepsOf('all', 'grpo')
      .slice(0, -2)
      .map((s) => s.id),
    'dpo',
    'evaluate-rl',
    'grpo',
    'evaluate-rl',
    'rloo',
    'evaluate-rl',
  ]);
  expect(shared?.eval.rl).toBeUndefined();
  for (const m of ['dpo', 'grpo', 'rloo'] as const) {
    const report = methods[m]!.report!;
    expect(report.method, m).toBe(m);
    expect(report[m], m).toBeDefined();
    expect(report.eval.rl, m).toBeDefined();
    // What it cost: seconds and the engine's peak tensor memory while it trained.
    expect(report.stages[m]!.seconds, m).toBeGreaterThan(0);
    expect(report.stages[m]!.peak_mib, m).toBeGreaterThan(0);
    // Every method starts from the same SL-CAI policy, evaluated once.
    expect(report.eval.sl).toEqual(methods.dpo!.report!.eval.sl);
    const metrics = events.flatMap((e) =>
      e.type === 'metrics' && e.stage === m ? [e.values] : [],
    );
    expect(metrics.length, m).toBeGreaterThan(0);
    for (const key of methodMetrics[m])
      expect(Number.isFinite(metrics[0]![key]), `${m} ${key}`).toBe(true);
    const progress = events.flatMap((e) =>
      e.type === 'progress' && e.stage === m ? [[e.done, e.total]] : [],
    );
    expect(progress[0]![0], m).toBe(0);
    expect(progress.at(-1)![0], m).toBe(progress.at(-1)![1]);
  }
  // DPO has no reward model of its own; GRPO and RLOO report their sampled answers' scores.
  expect(methods.grpo!.report!.grpo!.iterations).toBe(2);
  expect(events.some((e) => e.type === 'samples' && e.stage === 'rloo')).toBe(true);
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 600_000);

test('choosing DPO in the editor: the recipe and the steps follow it, and a run trains by DPO with its charts', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(small())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const overview = page.getByTestId('pipeline');
  expect(await overview.locator('[data-stage="ppo"]').count()).toBe(1);
  await page.getByLabel('RL-CAI method').selectOption('dpo');
  // The recipe now learns from the labels directly: no reward model, no PPO.
  await overview.locator('[data-stage="dpo"]').waitFor();
  expect(await overview.locator('[data-stage="reward"], [data-stage="ppo"]').count()).toBe(0);
  // Only the chosen method's settings are offered.
  expect(await page.getByLabel('DPO β').count()).toBe(1);
  expect(await page.getByLabel('KL coefficient', { exact: true }).count()).toBe(0);

  const runPanel = page.getByTestId('run-panel');
  await runPanel.getByRole('button', { name: 'Run the whole recipe' }).click();
  const steps = stepsOf('all', 'dpo');
  await runPanel
    .locator('[data-testid="run-step"][data-state="done"]')
    .nth(steps.length - 1)
    .waitFor({ timeout: 300_000 });
  expect(await runPanel.getByTestId('run-step').allInnerTexts()).toHaveLength(steps.length);
  const stages = page.getByTestId('stages-panel');
  expect(await stages.getByRole('tab', { name: 'Reward model' }).count()).toBe(0);
  await stages.getByRole('tab', { name: 'DPO' }).click();
  await stages.getByTestId('charts-dpo').waitFor();
  expect(await stages.getByTestId('stage-summary').textContent()).toMatch(
    /^Held-out accuracy \d+\.\d%/,
  );
  const numbers = await page.getByTestId('results-panel').getByTestId('rl-numbers').textContent();
  expect(numbers).toMatch(/RL-CAI learned from the AI labels by DPO\./);
  expect(numbers).toMatch(/DPO, with no reward model: on held-out pairs/);
  await context.close();
}, 600_000);
