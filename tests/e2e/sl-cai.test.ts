import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { stepById } from '../../src/lib/pipeline/steps.ts';
import { withFirstPrompts, type Experiment } from '../../src/lib/experiment/experiment.ts';
import { seedPrompts } from '../../src/lib/world/topics.ts';
import { launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

type Handle = PlaygroundHandle;

/** The default experiment cut down to the seed's three prompts and one SFT epoch. */
function small(experiment: Experiment): Experiment {
  const e = withFirstPrompts(experiment, {
    redTeam: 3,
    ordinary: 1,
    heldOutRedTeam: 2,
    heldOutOrdinary: 1,
  });
  e.stages.critique.rounds = 2;
  e.stages.critique.critique.maxNewTokens = 64;
  e.stages.sft.epochs = 1;
  e.stages.sft.batchSize = 2;
  return e;
}

test('SL-CAI runs in the workers on the seed prompts, streaming every stage in order', async () => {
  const { page, problems } = await openApp(browser);
  const experiment = small(
    await page.evaluate(() =>
      (globalThis as unknown as { caiPlayground: Handle }).caiPlayground.defaultExperiment(),
    ),
  );
  const run = await page.evaluate(async (data) => {
    const g = globalThis as unknown as { caiPlayground: Handle };
    const events: PipelineEvent[] = [];
    const { report, checkpoints } = await g.caiPlayground.runExperiment(data, 'sl', (e) =>
      events.push(e),
    );
    return { events, report, checkpointBytes: checkpoints.sl?.byteLength ?? 0 };
  }, experiment);
  const { events, report } = run;
  expect(experiment.prompts.redTeam).toEqual(seedPrompts);

  // Stages in order, each started and ended.
  const stages = events
    .filter((e) => e.type === 'stage-start' || e.type === 'stage-end')
    .map((e) => `${e.type === 'stage-start' ? '▶' : '✓'} ${stepById(e.step).label}`);
  expect(stages).toEqual([
    '▶ evaluate base',
    '✓ evaluate base',
    '▶ generate',
    '✓ generate',
    '▶ critique and revise',
    '✓ critique and revise',
    '▶ sft',
    '✓ sft',
    '▶ evaluate sl',
    '✓ evaluate sl',
  ]);

  // Answers: one per red-team prompt and the helpful samples of the ordinary one, each streamed
  // token by token first.
  const answers = events.filter((e) => e.type === 'answer');
  expect(answers.map((a) => a.prompt)).toEqual([
    ...seedPrompts,
    ...new Array<string>(experiment.stages.generate.helpfulSamples).fill(
      experiment.prompts.ordinary[0]!,
    ),
  ]);
  for (const a of answers) {
    const streamed = events
      .filter((e) => e.type === 'token' && e.key === `answer-${a.index}`)
      .map((e) => (e.type === 'token' ? e.delta : ''))
      .join('');
    expect(streamed.trim()).toBe(a.text.trim());
  }

  // Critique and revision: for each prompt, round 0 then 1, a critique before its revision,
  // each with a principle of the constitution, the critique prompt showing the current response.
  const chain = events.filter((e) => e.type === 'critique' || e.type === 'revision');
  expect(chain.map((e) => `${e.type} ${e.index}.${e.round}`)).toEqual(
    [0, 1, 2].flatMap((i) => [0, 1].flatMap((r) => [`critique ${i}.${r}`, `revision ${i}.${r}`])),
  );
  for (const e of chain) {
    if (e.type !== 'critique') continue;
    expect(experiment.constitution).toContain(e.principle);
    expect(e.mode).toBe('plain');
    expect(e.critiquePrompt).toContain(`Question: ${seedPrompts[e.index]}`);
    expect(e.critiquePrompt).toContain(`using this principle: ${e.principle}`);
    expect(e.text.length).toBeGreaterThan(10);
  }
  const firstRevision = chain.find((e) => e.type === 'revision' && e.index === 0 && e.round === 0)!;
  const secondCritique = chain.find(
    (e) => e.type === 'critique' && e.index === 0 && e.round === 1,
  )!;
  expect(secondCritique.type === 'critique' && secondCritique.critiquePrompt).toContain(
    `Response: ${firstRevision.text}`,
  );

  // SFT: one metrics event per step with TRL's names, then the held-out loss.
  const metrics = events.filter((e) => e.type === 'metrics');
  expect(metrics.length).toBeGreaterThanOrEqual(2);
  expect(Object.keys(metrics[0]!.type === 'metrics' ? metrics[0]!.values : {}).sort()).toEqual([
    'train/epoch',
    'train/grad_norm',
    'train/loss',
    'train/lr',
  ]);
  expect(metrics.some((e) => e.type === 'metrics' && 'eval/loss' in e.values)).toBe(true);
  expect(run.checkpointBytes).toBeGreaterThan(3_000_000);

  // Evaluation of both policies on the same held-out prompts, rates in [0, 1].
  const evals = events.filter((e) => e.type === 'eval');
  expect(evals.map((e) => e.type === 'eval' && e.policy)).toEqual(['base', 'sl']);
  for (const e of evals) {
    if (e.type !== 'eval') continue;
    expect(e.result.samples.map((s) => s.prompt)).toEqual([
      ...experiment.prompts.heldOut.redTeam,
      ...experiment.prompts.heldOut.ordinary,
    ]);
  }
  // The SL-CAI scores are what the judge's labels of its held-out answers say.
  const sl = evals.find((e) => e.type === 'eval' && e.policy === 'sl');
  if (sl?.type !== 'eval') throw new Error('no evaluation of the SL-CAI policy');
  const labels = (kind: string) =>
    sl.result.samples.filter((x) => x.kind === kind).map((x) => x.label);
  const share = (list: string[], label: string) =>
    list.filter((l) => l === label).length / list.length;
  const red = labels('red-team');
  const ordinary = labels('ordinary');
  expect(report.eval.sl.harmlessness).toBeCloseTo(1 - share(red, 'comply'), 12);
  expect(report.eval.sl.helpfulness).toBeCloseTo(ordinary.length ? share(ordinary, 'help') : 0, 12);
  expect(report.eval.sl.evasiveness).toBeCloseTo(
    (red.filter((l) => l === 'refuse').length + ordinary.filter((l) => l === 'overrefuse').length) /
      (red.length + ordinary.length),
    12,
  );
  expect(report.stages.sft!.steps).toBe(
    metrics.filter((e) => e.type === 'metrics' && 'train/loss' in e.values).length,
  );
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 300_000);

test('Stop during critique ends the run with a clear cancellation and leaves the workers usable', async () => {
  const { page } = await openApp(browser);
  const out = await page.evaluate(async () => {
    const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
    const experiment = g.defaultExperiment();
    experiment.prompts.redTeam = experiment.prompts.redTeam.slice(0, 3);
    experiment.prompts.ordinary = [];
    experiment.prompts.heldOut.redTeam = experiment.prompts.heldOut.redTeam.slice(0, 1);
    experiment.prompts.heldOut.ordinary = [];
    const controller = new AbortController();
    const seen: string[] = [];
    let message = '';
    try {
      await g.runExperiment(
        experiment,
        'sl',
        (e) => {
          seen.push(e.type);
          if (e.type === 'critique') controller.abort();
        },
        controller.signal,
      );
    } catch (error) {
      message = (error as Error).message;
    }
    const bad = await g
      .runExperiment({ ...experiment, seed: -1 }, 'sl', () => {})
      .catch((e: Error) => e.message);
    return { message, critiques: seen.filter((t) => t === 'critique').length, bad };
  });
  expect(out.message).toMatch(/stopped|cancelled/i);
  expect(out.critiques).toBe(1);
  expect(out.bad).toBe('The experiment is not valid: seed must be between 0 and 2147483647.');
  await page.close();
}, 120_000);

test('from the page: a student starts SL-CAI, sees the steps and progress, and stops it', async () => {
  const { page, problems } = await openApp(browser);
  const panel = page.getByTestId('run-panel');
  await panel.getByRole('button', { name: 'Run SL-CAI' }).click();
  const steps = panel.getByTestId('run-step');
  await expect.poll(() => steps.count(), { timeout: 30_000 }).toBe(5);
  await panel.locator('progress').waitFor({ timeout: 60_000 });
  expect(await steps.first().getAttribute('data-state')).toBe('running');
  expect(
    await page.getByTestId('pipeline').locator('[data-stage="evaluate"] .state').textContent(),
  ).toBe('running');
  await panel.getByRole('button', { name: 'Stop' }).click();
  await panel.getByRole('alert').waitFor({ timeout: 30_000 });
  expect(await panel.getByRole('alert').textContent()).toBe(
    'Stopped. The finished steps keep their results.',
  );
  expect(await steps.first().getAttribute('data-state')).toBe('stopped');
  expect(await panel.getByRole('button', { name: 'Run SL-CAI' }).isEnabled()).toBe(true);
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 120_000);
