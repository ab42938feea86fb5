import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import type { HubRequest } from '../../scripts/lib/stand-in-hub.ts';
import { watchPage } from '../../scripts/lib/browser.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const hub = () => inject('hubUrl');
const hubLog = async (): Promise<HubRequest[]> => (await fetch(`${hub()}/__log`)).json();
const setDelay = (ms: number) => fetch(`${hub()}/__delay?ms=${ms}`, { method: 'POST' });

test('a Hub checkpoint with a real tokenizer: check, download with progress, cancel, resume, cache, load, answer, delete', async () => {
  const context = await browser.newContext(); // one browser profile: one cache for both pages
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(baseUrl());
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const panel = page.getByTestId('own-policy');
  await panel.getByTestId('own-endpoint').fill(hub());
  await panel.getByTestId('own-id').fill('test-org/tiny-qwen3');
  const before = (await hubLog()).length;
  await page.waitForTimeout(300);
  expect((await hubLog()).length).toBe(before); // typing fetches nothing

  // Check: the config and the weights' headers only, then the plan.
  await panel.getByTestId('own-check').click();
  const report = panel.getByTestId('own-report');
  await expect.poll(() => report.textContent(), { timeout: 30_000 }).toContain('Qwen3ForCausalLM');
  const text = (await report.textContent())!;
  expect(text).toContain('stored: BF16');
  expect(text).toContain('model-00001-of-00002.safetensors, model-00002-of-00002.safetensors');
  expect(text).toMatch(/Memory plan \((wasm|webgpu|cpu)\)/);
  const checked = (await hubLog()).slice(before);
  expect(
    checked.every((r) => r.file === 'config.json' || r.file.endsWith('.json') || r.range),
  ).toBe(true);

  // Download slowly, cancel half-way: the progress says bytes; the parts kept stay cached.
  await setDelay(400);
  await panel.getByTestId('own-download').click();
  const progress = panel.getByTestId('own-progress');
  await expect
    .poll(() => progress.getAttribute('data-state'), { timeout: 30_000 })
    .toBe('downloading');
  await expect
    .poll(async () => (await progress.textContent()) ?? '', { timeout: 30_000 })
    .toMatch(/MiB of [\d.]+ MiB/);
  await page.waitForTimeout(1500);
  await panel.getByTestId('own-cancel').click();
  await expect
    .poll(() => progress.getAttribute('data-state'), { timeout: 15_000 })
    .toBe('cancelled');
  const atCancel = await hubLog();
  await expect
    .poll(() => panel.getByTestId('own-cached').textContent(), { timeout: 30_000 })
    .toContain('partial');

  // Resume: nothing fetched before the cancel (but the part in flight) is fetched again.
  await setDelay(0);
  await panel.getByTestId('own-download').click();
  await expect.poll(() => progress.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
  const afterResume = (await hubLog()).slice(atCancel.length);
  const key = (r: HubRequest) => `${r.file} ${r.range}`;
  const fetchedBefore = new Set(atCancel.slice(before, -1).map(key));
  expect(afterResume.length).toBeGreaterThan(0);
  expect(afterResume.filter((r) => fetchedBefore.has(key(r)))).toEqual([]);
  await expect
    .poll(() => panel.getByTestId('own-cache').textContent(), { timeout: 30_000 })
    .toMatch(/MiB in 1 model\./);

  // Load it as the policy and answer through its own chat template.
  await panel.getByTestId('own-load').click();
  await expect
    .poll(() => panel.getByTestId('own-loaded').textContent(), { timeout: 60_000 })
    .toContain('test-org/tiny-qwen3');
  await panel.getByTestId('own-try').click();
  await expect
    .poll(async () => ((await panel.getByTestId('own-sample').textContent()) ?? '').length, {
      timeout: 60_000,
    })
    .toBeGreaterThan(0);
  const loads = (await hubLog()).length;

  // One click makes it the experiment's policy, trained with LoRA and judged by the AI judge.
  await panel.getByTestId('own-use').click();
  await expect
    .poll(() => page.getByLabel('Policy', { exact: true }).inputValue())
    .toBe('test-org/tiny-qwen3');
  expect(await panel.getByTestId('own-loaded').textContent()).toContain(
    'It is the experiment’s policy.',
  );
  expect(await page.getByTestId('hub-consent').textContent()).toContain('test-org/tiny-qwen3');

  // A fresh page finds it in the cache; Delete empties the cache.
  const again = await context.newPage();
  await again.goto(baseUrl());
  const second = again.getByTestId('own-policy');
  await expect
    .poll(() => second.getByTestId('own-cache').textContent(), { timeout: 90_000 })
    .toMatch(/in 1 model\./);
  await second.getByTestId('own-delete').click();
  await expect
    .poll(() => second.getByTestId('own-cache').textContent())
    .toBe('No models downloaded.');
  expect((await hubLog()).length).toBe(loads); // loading and listing read the cache only
  expect(problems.pageErrors).toEqual([]);
});
