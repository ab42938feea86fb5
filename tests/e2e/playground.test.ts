import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultExperiment, type Experiment } from '../../src/lib/experiment/experiment.ts';
import { encodeShareLink } from '../../src/lib/experiment/share-link.ts';
import { baseUrl, launchChromium, smallRecipe } from './fixtures.ts';

const shots = join('test-results', 'screenshots');
const xssPrinciple = '<img src=x onerror="window.__xss = 1"> Be kind.';
const xssPrompt = '<script>window.__xss = 2</script>How do I hack a website?';

/** The small recipe with a principle and a prompt that try to inject HTML. */
function smallExperiment(): Experiment {
  const e = smallRecipe();
  e.name = 'Small playground test';
  e.constitution = [...e.constitution, xssPrinciple];
  e.prompts.redTeam = [xssPrompt, ...e.prompts.redTeam];
  return e;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Records main-thread long tasks from the first script on. */
async function watchLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as { __longTasks: number[] };
    g.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) g.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

const experimentOf = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as { caiPlayground: { draft: { experiment: unknown } } };
    return JSON.parse(JSON.stringify(g.caiPlayground.draft.experiment)) as Experiment;
  });

test('a student runs the whole recipe from a link and sees every stage, safely', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await watchLongTasks(page);
  const link = await encodeShareLink(smallExperiment());
  await page.goto(baseUrl() + link);
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const editor = page.getByTestId('editor');
  // The payloads are text in the editor, nothing ran.
  expect(await editor.getByLabel('Principle 6', { exact: true }).inputValue()).toBe(xssPrinciple);
  // A principle the tiny world does not know is marked with what the world does with it.
  const unknown = editor.getByTestId('unknown-principle');
  expect(await unknown.count()).toBe(1);
  expect(await unknown.textContent()).toContain('read as “be harmless”');
  await page.screenshot({ path: join(shots, '1-editor.png'), fullPage: false });

  const longTasksBefore = await page.evaluate(
    () => (globalThis as unknown as { __longTasks: number[] }).__longTasks.length,
  );
  const runPanel = page.getByTestId('run-panel');
  await runPanel.getByRole('button', { name: 'Run the whole recipe' }).click();
  const steps = runPanel.getByTestId('run-step');
  await expect.poll(() => steps.count(), { timeout: 10_000 }).toBe(9);
  await runPanel.locator('[data-state="done"]').nth(8).waitFor({ timeout: 600_000 });
  const longTasks = await page.evaluate(
    (from) => (globalThis as unknown as { __longTasks: number[] }).__longTasks.slice(from),
    longTasksBefore,
  );
  // No model on the main thread, asserted in ways a slow machine cannot break: the page itself
  // never fetched a model or a WebAssembly runtime (the workers did), and no main-thread task
  // came near the seconds a model there would block it for. (How long the page's tasks take is
  // the bench's to measure: it depends on the machine.)
  const mainThreadFetches = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => e.name),
  );
  expect(mainThreadFetches.filter((url) => /\.(wasm|safetensors|onnx)(\?|$)/.test(url))).toEqual(
    [],
  );
  expect(longTasks.filter((d) => d > 5000)).toEqual([]);

  // Every stage's outputs.
  const stages = page.getByTestId('stages-panel');
  await stages.getByRole('tab', { name: 'Critique and revise' }).click();
  expect(await stages.getByTestId('chain').count()).toBe(4);
  expect(await stages.getByTestId('word-diff').count()).toBeGreaterThan(0);
  // Each round says whether its critique holds the answer against the principle drawn for it
  // (the tiny world's principles and critiques are known), and the stage says what to notice.
  const links = await stages
    .getByTestId('principle-link')
    .evaluateAll((els) => els.map((el) => el.getAttribute('data-link')));
  expect(links.length).toBeGreaterThan(0);
  for (const link of links) expect(['match', 'other', 'none']).toContain(link);
  expect(await stages.getByTestId('stage-notice').textContent()).toContain('What to notice:');
  expect(await stages.getByText(xssPrompt).first().isVisible()).toBe(true);
  await page.screenshot({ path: join(shots, '2-critiques.png') });
  for (const [tab, id, charts] of [
    ['Fine-tune (SFT)', 'charts-sft', 1],
    ['Reward model', 'charts-reward', 3],
    ['PPO', 'charts-ppo', 5],
  ] as const) {
    await stages.getByRole('tab', { name: tab }).click();
    const box = stages.getByTestId(id);
    await box.waitFor();
    expect(await box.locator('canvas').count()).toBe(charts);
    await stages.screenshot({ path: join(shots, `3-${id}.png`) });
  }
  // Keyboard: arrow keys move between the stage tabs.
  await stages.getByRole('tab', { name: 'PPO' }).focus();
  await page.keyboard.press('ArrowLeft');
  expect(await stages.getByRole('tab', { selected: true }).textContent()).toMatch(/Reward model/);
  await stages.getByRole('tab', { name: 'AI preferences' }).click();
  expect(await stages.getByTestId('preference').count()).toBeGreaterThan(0);
  expect(await stages.getByRole('meter').count()).toBeGreaterThan(0);
  await stages.screenshot({ path: join(shots, '4-preferences.png') });

  const results = page.getByTestId('results-panel');
  expect(await results.getByTestId('run-results').locator('tbody tr').count()).toBe(3);
  expect(await results.getByTestId('score-bars').locator('rect').count()).toBe(9);
  expect(await results.getByTestId('side-by-side').locator('.answer').count()).toBe(18);
  await results.screenshot({ path: join(shots, '5-results.png') });

  // The model lab can ask the policy the run trained (the run's policies are kept).
  const lab = page.getByTestId('model-lab');
  await lab.getByLabel('Policy').selectOption('rl');
  await lab.getByTestId('lab-prompt').fill('How do I hack a website?');
  await page.getByTestId('lab-policy').getByRole('button', { name: 'Ask' }).click();
  await page.getByTestId('lab-policy-label').waitFor({ timeout: 60_000 });
  expect((await page.getByTestId('lab-policy-text').textContent())!.length).toBeGreaterThan(10);
  expect(await page.getByTestId('lab-policy').getByRole('alert').count()).toBe(0);

  // Nothing executed, no element was made from user text.
  expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBe(
    undefined,
  );
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.locator('main script').count()).toBe(0);
  await context.close();
}, 360_000);

test('a copied link opens the identical experiment in a fresh browser', async () => {
  const first = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await first.newPage();
  await page.goto(baseUrl());
  const editor = page.getByTestId('editor');
  await editor
    .getByLabel('Principle 1', { exact: true })
    .fill('Choose the response that is the most honest. <b>bold?</b>');
  await editor.getByRole('button', { name: 'Move principle 1 down' }).click();
  await editor.getByRole('button', { name: 'Remove principle 5' }).click();
  await editor.getByRole('spinbutton', { name: 'Seed', exact: true }).fill('7');
  const iterations = editor.getByRole('spinbutton', { name: /^PPO iterations/ });
  await iterations.fill('3');
  await iterations.blur();
  await editor.getByRole('checkbox', { name: 'the model lab' }).check();
  await editor.getByRole('button', { name: 'Copy link' }).click();
  const link = await editor.getByTestId('share-link').inputValue();
  expect(link).toMatch(/#x=2\.[\w-]+$/);
  const edited = await experimentOf(page);
  expect(edited.constitution[1]).toBe('Choose the response that is the most honest. <b>bold?</b>');
  expect(edited.constitution).toHaveLength(4);
  expect(edited.seed).toBe(7);
  expect(edited.stages.ppo.iterations).toBe(3);

  // A narrow laptop in dark mode.
  const second = await browser.newContext({
    colorScheme: 'dark',
    viewport: { width: 1024, height: 640 },
  });
  const opened = await second.newPage();
  await opened.goto(link);
  await opened.getByTestId('editor').waitFor();
  expect(await experimentOf(opened)).toEqual(edited);
  await opened.getByTestId('editor').screenshot({ path: join(shots, '7-link-opened-dark.png') });
  expect(await opened.getByTestId('model-lab').count()).toBe(0);
  await first.close();
  await second.close();
}, 120_000);

test('a malformed or truncated link says so and opens the defaults', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const good = await encodeShareLink(smallExperiment());
  await page.goto(baseUrl() + good.slice(0, 60));
  const notice = page.getByTestId('link-notice');
  await notice.waitFor();
  expect(await notice.textContent()).toBe(
    'This link is truncated or damaged: its experiment cannot be unpacked. The default experiment is open instead.',
  );
  expect(await experimentOf(page)).toEqual(defaultExperiment());
  await page.goto(baseUrl() + '#x=9.abc');
  await page.reload();
  await notice.waitFor();
  expect(await notice.textContent()).toMatch(/newer version of CAI Playground/);
  // A hash that is no link of ours gets the same clear message.
  await page.goto(baseUrl() + '#X=1.');
  await page.reload();
  await notice.waitFor();
  expect(await notice.textContent()).toBe(
    'This link is damaged: it does not hold a CAI Playground experiment. The default experiment is open instead.',
  );

  // A link naming a Hub model fetches nothing until the user allows it.
  const hub = smallExperiment();
  hub.models.feedback = 'HuggingFaceTB/SmolLM2-135M-Instruct';
  const fetched: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(baseUrl())) fetched.push(r.url());
  });
  await page.goto(baseUrl() + (await encodeShareLink(hub)));
  await page.reload();
  await page.getByTestId('hub-consent').waitFor();
  await page.getByTestId('run-panel').getByRole('button', { name: 'Run SL-CAI' }).click();
  expect(await page.getByTestId('run-panel').getByRole('alert').textContent()).toBe(
    'The experiment has problems to fix first: it downloads HuggingFaceTB/SmolLM2-135M-Instruct from the Hugging Face Hub, which needs your permission first (Models section).',
  );
  expect(fetched).toEqual([]);
  await context.close();
}, 60_000);

test('a reload half-way keeps the finished stages', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(smallExperiment())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const runPanel = page.getByTestId('run-panel');
  await runPanel.getByRole('button', { name: 'Run SL-CAI' }).click();
  // Wait for "evaluate base", "generate" and "critique and revise" to finish.
  await runPanel.locator('[data-state="done"]').nth(2).waitFor({ timeout: 120_000 });
  await page.goto(baseUrl());
  await page.getByTestId('saved-runs').waitFor();
  const after = page.getByTestId('run-panel');
  await expect.poll(() => after.locator('[data-state="done"]').count()).toBeGreaterThanOrEqual(3);
  expect(await after.getByRole('alert').textContent()).toMatch(/reloaded during this run/);
  await page.getByTestId('stages-panel').getByRole('tab', { name: 'Critique and revise' }).click();
  expect(await page.getByTestId('chain').count()).toBe(4);
  // The experiment was kept too (from IndexedDB, the URL has no link now).
  expect((await experimentOf(page)).name).toBe('Small playground test');
  expect(await page.getByTestId('saved-runs').locator('li').count()).toBe(1);
  await page.screenshot({ path: join(shots, '6-after-reload.png'), fullPage: true });
  await context.close();
}, 240_000);

test('a run goes one stage at a time, on after a reload, and two runs compare', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(smallExperiment())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const runPanel = page.getByTestId('run-panel');
  const done = runPanel.locator('[data-testid="run-step"][data-state="done"]');
  const next = runPanel.getByTestId('run-next');

  // One step, then one stage more: nothing past it runs.
  await runPanel.getByRole('button', { name: 'Run step by step' }).click();
  await next.waitFor({ timeout: 60_000 });
  expect(await done.allTextContents()).toEqual([expect.stringMatching(/^Evaluate: Base/)]);
  await next.getByRole('button', { name: 'Run one stage: Answer' }).click();
  await next.getByRole('button', { name: 'Run one stage: Critique and revise' }).waitFor({
    timeout: 60_000,
  });
  expect(await done.count()).toBe(2);
  expect(await runPanel.locator('[data-state="waiting"]').count()).toBe(7);

  // After a reload the run goes on from the stored outputs and checkpoints to the end.
  await page.reload();
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  await next.getByRole('button', { name: 'Run one stage: Critique and revise' }).click();
  await next
    .getByRole('button', { name: 'Run one stage: Fine-tune (SFT)' })
    .waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('chain').count()).toBe(4);
  await page.reload();
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  await next.getByRole('button', { name: 'Continue to the end' }).click();
  await expect.poll(() => done.count(), { timeout: 240_000, interval: 1000 }).toBe(9);
  expect(await next.count()).toBe(0);
  const results = page.getByTestId('results-panel');
  expect(await results.getByTestId('run-results').locator('tbody tr').count()).toBe(3);

  // A second run without the explain-objections principle, same seed, compared with the first.
  const editor = page.getByTestId('editor');
  await editor.getByRole('combobox', { name: 'Preset' }).selectOption('no-explain');
  await editor.getByRole('button', { name: 'Use preset' }).click();
  await editor.getByRole('textbox', { name: 'Name', exact: true }).fill('Without explain');
  await runPanel.getByRole('button', { name: 'Run SL-CAI' }).click();
  await expect.poll(() => done.count(), { timeout: 180_000, interval: 1000 }).toBe(5);
  await page.getByTestId('saved-runs').getByText('Without explain').waitFor();
  const pick = results.getByRole('combobox', { name: 'Compare with another run' });
  const first = pick.locator('option', { hasText: 'Small playground test' });
  await pick.selectOption((await first.getAttribute('value'))!);
  await expect.poll(() => results.getByTestId('score-bars').count()).toBe(2);
  expect(await results.getByText('Compared with: Small playground test').count()).toBe(1);
  // The compared run's numbers are in the table too (its three policies under this run's two).
  const table = results.getByTestId('run-results');
  expect(await table.locator('tr[data-run="this"]').count()).toBe(2);
  expect(await table.locator('tr[data-run="compared"] th').allTextContents()).toEqual([
    'Base',
    'SL-CAI',
    'RL-CAI',
  ]);
  // The difference at a glance: this run minus the compared one, per policy both have; the
  // base policy is the same model with the same seed, so it does not differ.
  const difference = table.locator('tr[data-run="difference"]');
  expect(await difference.locator('th').allTextContents()).toEqual(['Base', 'SL-CAI']);
  expect(await difference.first().locator('td').allTextContents()).toEqual([
    'difference',
    '±0.0 pts',
    '±0.0 pts',
    '±0.0 pts',
  ]);
  await expect.poll(() => results.getByTestId('other-answer').count()).toBeGreaterThan(0);
  await results.screenshot({ path: join(shots, '8-two-runs.png') });
  await context.close();
}, 600_000);

test('keyboard only: every control is named, and Tab and Enter start a run', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(smallExperiment())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  // Every enabled control has a name a screen reader can read.
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, input, select, textarea')]
      .filter((el) => {
        const c = el as HTMLInputElement;
        const name =
          c.getAttribute('aria-label') ??
          ([...(c.labels ?? [])].map((l) => l.textContent).join('') ||
            (c.type === 'button' || c.tagName === 'BUTTON' ? c.textContent : ''));
        return !name?.trim();
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(unnamed).toEqual([]);
  // From the top of the page: Tab reaches the skip link, Enter jumps past the editor, and the
  // next Tab is "Run SL-CAI"; Enter starts it.
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim());
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Skip to the run controls');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Run SL-CAI');
  await page.keyboard.press('Enter');
  const runPanel = page.getByTestId('run-panel');
  await runPanel.locator('[data-state="done"]').first().waitFor({ timeout: 60_000 });
  // The pressed button is disabled while the run goes on: focus moved to Stop.
  expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Stop');
  await page.keyboard.press('Enter');
  await runPanel.getByText('Stopped. The finished steps keep their results.').waitFor();
  await context.close();
}, 180_000);
