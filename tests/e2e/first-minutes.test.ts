/**
 * A student's first minutes, in the page as they see it: what each stage's tab says while
 * that stage runs (recorded on every change of the page, so the test does not depend on how
 * fast the machine is), the rollouts PPO writes, the preset list and guide following the
 * loaded constitution, and the layout at 390 px wide.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { constitutionPresets } from '../../src/lib/experiment/presets.ts';
import { encodeShareLink } from '../../src/lib/experiment/share-link.ts';
import { baseUrl, launchChromium, smallRecipe } from './fixtures.ts';

const shots = join('test-results', 'screenshots');
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

function small() {
  const e = smallRecipe(4, 2);
  e.name = 'First minutes';
  return e;
}

/** The page's elements that stick out past the right edge of the window. */
const overflowing = (page: Page) =>
  page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      // (Inside a scrolling box is fine: a wide table scrolls there.)
      if (box.width > 0 && box.right > window.innerWidth + 1 && !el.closest('[data-scroll]'))
        out.push(`${el.tagName.toLowerCase()}.${el.className} (right ${Math.round(box.right)})`);
    }
    return out;
  });

/** What the stages panel and run panel showed, one entry per change of the page. */
interface Seen {
  tab: string;
  tabState: string;
  status: string;
  chains: string;
  ppoStreaming: boolean;
  /** Whether a step of the run was running. */
  runActive: boolean;
}

/** Records, on every change of the page, the selected stage tab, its state and its texts. */
async function recordStageTexts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Seen[] = [];
    Object.assign(globalThis, { seenTexts: seen });
    const text = (selector: string) => document.querySelector(selector)?.textContent?.trim() ?? '';
    new MutationObserver(() => {
      const tab = document.querySelector('[role="tab"][aria-selected="true"]');
      const entry = {
        tab: tab?.id ?? '',
        tabState: tab?.getAttribute('data-state') ?? '',
        status: text('[data-testid="stages-panel"] [data-testid="stage-status"]'),
        chains: text('[data-testid="chains-count"]').replace(/\s+/g, ' '),
        runActive: !!document.querySelector('[data-testid="run-step"][data-state="running"]'),
        ppoStreaming: !!document.querySelector(
          '[data-testid="run-panel"] [data-testid="streaming-ppo"]',
        ),
      };
      const last = seen.at(-1);
      if (!last || JSON.stringify(last) !== JSON.stringify(entry)) seen.push(entry);
    }).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
}

test('while each stage runs, its tab says what is happening, never "nothing yet"', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(small())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  // The estimate comes from a quick measurement on this device.
  await page.getByTestId('run-estimate').waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('run-estimate').textContent()).toMatch(
    /^On this device, this experiment should take about [\d½]+ (s|min) for SL-CAI and [\d½]+ (s|min)\s+for the whole recipe$/,
  );
  await recordStageTexts(page);
  const runPanel = page.getByTestId('run-panel');
  await runPanel.getByRole('button', { name: 'Run the whole recipe' }).click();
  await runPanel.locator('[data-testid="run-step"][data-state="done"]').nth(8).waitFor({
    timeout: 600_000,
  });
  const seen = await page.evaluate(
    () => (globalThis as unknown as { seenTexts: Seen[] }).seenTexts,
  );
  const whileRunning = (tab: string) =>
    seen.filter((s) => s.tab === `tab-${tab}` && s.tabState === 'running');

  // While the run went on, no tab asked for a run or said nothing was there yet.
  const active = seen.filter((s) => s.runActive);
  expect(active.length).toBeGreaterThan(0);
  for (const s of active)
    expect(s.status, s.tab).not.toMatch(/run SL-CAI|run the whole recipe|Nothing trained yet/);
  expect(active.map((s) => s.status)).toContain(
    'Not started yet: this run comes to this stage later.',
  );
  // Each stage's tab opened by itself while it ran, and said what it was doing.
  for (const tab of ['critique', 'sft', 'label', 'reward', 'ppo']) {
    const running = whileRunning(tab);
    expect(running.length, tab).toBeGreaterThan(0);
    for (const s of running) {
      expect(s.status, tab).not.toMatch(
        /^(Nothing trained yet|No preference labels yet|No critiques yet)/,
      );
    }
  }
  for (const tab of ['sft', 'reward', 'ppo'])
    expect(whileRunning(tab).map((s) => s.status)).toContain(
      `Training now: the first numbers appear here after the first ${tab === 'ppo' ? 'iteration' : 'step'} (the run panel shows the progress).`,
    );
  // Critique and revise counts what is done, not what is there: "k of 4 … so far" until the end.
  const counts = [...new Set(whileRunning('critique').map((s) => s.chains))].filter(Boolean);
  expect(counts[0]).toBe('0 of 4 red-team answers critiqued and revised so far.');
  expect(counts).toContain('2 of 4 red-team answers critiqued and revised so far.');
  for (const c of counts.slice(0, -1)) expect(c).toMatch(/^[0-3] of 4 .* so far\.$/);
  expect(seen.at(-1)?.chains ?? counts.at(-1)).toMatch(
    /^4 red-team answers critiqued and revised \(2 rounds each\)\.$|^$/,
  );
  // PPO's rollouts streamed into the run panel while it ran.
  expect(seen.some((s) => s.ppoStreaming)).toBe(true);

  // After the run: numbers a student can read.
  const stages = page.getByTestId('stages-panel');
  await stages.getByRole('tab', { name: 'Critique and revise' }).click();
  expect(await stages.getByTestId('chains-count').textContent()).toMatch(
    /4 red-team answers critiqued and revised \(2\s+rounds each\)/,
  );
  await stages.getByRole('tab', { name: 'Reward model' }).click();
  expect(await stages.getByTestId('stage-summary').textContent()).toMatch(
    /^Held-out accuracy \d+\.\d%, margin -?\d\.\d{3} \(training: \d+\.\d%, -?\d\.\d{3}\)\.$/,
  );
  const results = page.getByTestId('results-panel');
  expect(await results.getByTestId('label-bars').getByRole('img').count()).toBe(6);
  expect(await results.getByTestId('rl-numbers').textContent()).toMatch(
    /Reward model on held-out pairs: accuracy \d+\.\d%, margin -?\d\.\d{3}/,
  );
  expect(await results.getByTestId('score-definitions').textContent()).toContain(
    'all held-out prompts answered evasively',
  );
  // Screenshots to look at (not compared): the results and a stage at 1280 and 390 px wide.
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await results.screenshot({ path: join(shots, `results-${width}.png`) });
    await stages.screenshot({ path: join(shots, `stage-reward-${width}.png`) });
    await page.getByTestId('run-panel').screenshot({ path: join(shots, `run-panel-${width}.png`) });
    expect(await overflowing(page)).toEqual([]);
  }
  await context.close();
}, 700_000);

test('the preset list and the guide follow the constitution the link loaded', async () => {
  const four = small();
  four.constitution = constitutionPresets.find((p) => p.id === 'no-explain')!.principles;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(four)));
  const editor = page.getByTestId('editor');
  const preset = editor.getByRole('combobox', { name: 'Preset' });
  await preset.waitFor({ timeout: 60_000 });
  expect(await preset.inputValue()).toBe('no-explain');
  expect(await page.getByTestId('guide').textContent()).toContain(
    'Read the constitution: 4 principles; none asks the model to explain its objections',
  );
  // An edit: no preset matches any more.
  await editor.getByLabel('Principle 1', { exact: true }).fill('Be brief.');
  expect(await preset.inputValue()).toBe('custom');
  expect(await editor.getByTestId('preset-description').textContent()).toContain(
    '4 principles of your own',
  );
  // Picking a preset does nothing until "Use preset"; then the list shows it as loaded.
  await preset.selectOption('seed');
  expect(await editor.getByLabel('Principle 1', { exact: true }).inputValue()).toBe('Be brief.');
  await editor.getByRole('button', { name: 'Use preset' }).click();
  expect(await preset.inputValue()).toBe('seed');
  expect(await page.getByTestId('guide').textContent()).toContain(
    'Read the constitution: 5 principles; one asks the model to explain its objections',
  );
  await context.close();
}, 120_000);

test('at 390 px wide nothing sticks out of the page or overlaps', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(baseUrl());
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  await page.getByTestId('editor').waitFor();
  // Open every collapsed section, as a curious student would.
  for (const summary of await page.locator('details:not([open]) > summary').all())
    if (await summary.isVisible()) await summary.click();
  const wide = await overflowing(page);
  expect(wide).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // The guide's numbers stand by the first line of their text (not the last), and each Hub
  // model's Download button beside its name and size, not under them.
  const tops = (locator: ReturnType<Page['locator']>, a: string, b: string) =>
    locator.evaluateAll(
      (items, [a, b]) =>
        items.map((li) => {
          const x = li.querySelector(a!)!.getBoundingClientRect();
          const y = li.querySelector(b!)!.getBoundingClientRect();
          return { topGap: Math.abs(x.top - y.top), apart: x.right <= y.left };
        }),
      [a, b],
    );
  const guide = await tops(page.getByTestId('guide').locator('li'), '.n', 'button');
  expect(guide).toHaveLength(4);
  for (const g of guide) expect(g).toEqual({ topGap: expect.any(Number), apart: true });
  for (const g of guide) expect(g.topGap).toBeLessThan(6);
  const hub = await tops(page.getByTestId('hub-model'), '.what', 'button');
  expect(hub.length).toBeGreaterThan(0);
  for (const h of hub) expect(h.apart).toBe(true);
  for (const h of hub) expect(h.topGap).toBeLessThan(6);
  await page.screenshot({ path: join(shots, 'page-390.png'), fullPage: true });
  await context.close();
}, 120_000);
