import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runFile } from '../../src/lib/runs/exports.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test('the same run file imports twice; bad and crafted files are refused in words, nothing stored', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(baseUrl());
  const meta = {
    id: 'run-x',
    name: 'Imported run',
    created: 0,
    stages: 'sl' as const,
    status: 'finished' as const,
    experiment: defaultExperiment(),
    report: null,
    error: null,
  };
  const file = (text: string) => ({
    name: 'run.json',
    mimeType: 'application/json',
    buffer: Buffer.from(text),
  });
  const good = file(JSON.stringify(runFile(meta, [])));
  const input = page.getByLabel('Import a run');
  const listed = page.getByText(/^Imported run · seed 1/);
  await input.setInputFiles(good);
  await expect.poll(() => listed.count(), { timeout: 30_000 }).toBe(1);
  await input.setInputFiles(good);
  await expect.poll(() => listed.count(), { timeout: 30_000 }).toBe(2);
  await input.setInputFiles(file(JSON.stringify({ ...runFile(meta, []), version: -1 })));
  await page
    .getByText(
      'This run export is damaged: its format version must be a whole number of at least 1 (it is -1).',
    )
    .waitFor();
  // Crafted files are refused before anything is stored or drawn, each naming its field.
  const crafted: [unknown[], string][] = [
    [
      [{ type: 'stage-start', stage: '__proto__', step: 'generate' }],
      'events[0].stage must be one of',
    ],
    [
      [{ type: 'answer', index: 1e7, kind: 'red-team', prompt: 'x', text: 'y' }],
      "events[0].index is 10000000; this run's experiment has",
    ],
    [
      [{ type: 'stage-end', stage: 'sft', step: 'sft', seconds: '3' }],
      'events[0].seconds must be a number',
    ],
    [[null], 'events[0] must be an object (is null)'],
  ];
  for (const [events, message] of crafted) {
    await input.setInputFiles(file(JSON.stringify(runFile(meta, events))));
    await page.getByText(`This run export is damaged: ${message}`).waitFor();
    await page.getByTestId('editor').waitFor();
  }
  expect(await listed.count()).toBe(2);
  await page.reload();
  await expect.poll(() => listed.count(), { timeout: 30_000 }).toBe(2);
  expect(problems).toEqual([]);
  await page.close();
});

test('saved runs of one experiment with different seeds: the results show each figure’s spread', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(baseUrl());
  const fixture = JSON.parse(readFileSync('tests/fixtures/run-export.json', 'utf8'));
  const input = page.getByLabel('Import a run');
  const saved = page.getByTestId('saved-runs');
  for (const seed of [1, 2]) {
    const run = structuredClone(fixture);
    run.meta.id = `seed-${seed}`;
    run.meta.name = `Seed ${seed}`;
    run.meta.experiment.seed = seed;
    // The second seed's base policy did better: the spread shows the difference.
    if (seed === 2) run.meta.report.eval.base.harmlessness = 1;
    await input.setInputFiles({
      name: `seed-${seed}.json`,
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(run)),
    });
    await saved.getByText(new RegExp(`^Seed ${seed} · seed ${seed}`)).waitFor();
  }
  // Open the first seed's run (unless it is the one shown already).
  const open = saved
    .getByRole('listitem')
    .filter({ hasText: 'Seed 1 · seed 1' })
    .getByRole('button', { name: 'Open' });
  if (await open.isEnabled()) await open.click();
  const table = page.getByTestId('seed-spread');
  await table.waitFor();
  await expect.poll(() => table.locator('caption').textContent()).toContain('seeds 1, 2');
  const base = fixture.meta.report.eval.base.harmlessness as number;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const sd = Math.abs(1 - base) / Math.SQRT2;
  await expect
    .poll(() => table.getByRole('row', { name: /base/i }).textContent())
    .toContain(`${pct((base + 1) / 2)} ± ${pct(sd)}`);
  expect(problems).toEqual([]);
  await page.close();
});

test('a run judged by both judges: the page shows their agreement and lists each answer they label differently, as text', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(baseUrl());
  const run = JSON.parse(readFileSync('tests/fixtures/run-export.json', 'utf8'));
  run.meta.id = 'both-judges';
  run.meta.name = 'Both judges';
  const payload = '<img src=x onerror="window.__injected=1">';
  const differ: Record<string, number> = { base: 2, sl: 1, rl: 0 };
  for (const event of run.events) {
    if (event.type !== 'eval') continue;
    const { result } = event;
    const n = differ[event.policy]!;
    result.samples.forEach(
      (s: { label: string; text: string; world?: string; ai?: object }, i: number) => {
        s.world = s.label;
        s.ai = {
          label: i < n ? (s.label === 'garbled' ? 'comply' : 'garbled') : s.label,
          confidence: 0.8,
        };
        if (i === 0 && n > 0) s.text = `${s.text} ${payload}`;
      },
    );
    const figures = (({ harmlessness, helpfulness, evasiveness, redTeam, ordinary }) => ({
      ...{ harmlessness, helpfulness, evasiveness, redTeam, ordinary },
    }))(result);
    result.aiJudge = {
      model: 'tiny-cai',
      figures,
      confidence: 0.8,
      agreement: 1 - n / result.samples.length,
    };
  }
  await page.getByLabel('Import a run').setInputFiles({
    name: 'both.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(run)),
  });
  const saved = page.getByTestId('saved-runs');
  await saved.getByText(/^Both judges · seed 1/).waitFor();
  const open = saved
    .getByRole('listitem')
    .filter({ hasText: 'Both judges' })
    .getByRole('button', { name: 'Open' });
  const list = page.getByTestId('judge-disagreements');
  // The page may show the imported run by itself (its Open button then disables), between a
  // check of the button and a click: open it only while it is not shown, and never wait on a
  // button that has just been disabled.
  if (!(await list.count()) && (await open.isEnabled()))
    await open.click({ timeout: 5_000 }).catch(async (error: unknown) => {
      if (await open.isEnabled()) throw error;
    });
  await list.waitFor({ timeout: 60_000 });
  const table = await page.getByTestId('ai-judge').innerText();
  expect(table).toContain('agrees with the world’s judge');
  const summaries = await list.locator('summary').allTextContents();
  expect(summaries).toEqual([
    'Base: the judges differ on 2 of 8 answers',
    'SL-CAI: the judges differ on 1 of 8 answers',
    'RL-CAI: the judges differ on 0 of 8 answers',
  ]);
  await list.locator('summary').first().click();
  const rows = list.locator('details').first().getByTestId('judge-disagreement');
  expect(await rows.count()).toBe(2);
  expect(await rows.first().textContent()).toContain(payload);
  expect(await rows.first().textContent()).toContain('garbled (80%)');
  expect(await page.evaluate(() => 'injected' in window || '__injected' in window)).toBe(false);
  expect(problems).toEqual([]);
  await page.close();
});
