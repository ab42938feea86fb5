import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultExperiment, withFirstPrompts } from '../../src/lib/experiment/experiment.ts';
import { encodeShareLink } from '../../src/lib/experiment/share-link.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A stand-in for huggingface.co inside the browser (tests never touch the Hub): the repo
 * "test-org/tiny-hub" serves the shipped tiny model's files, each after `delayMs`.
 */
function fakeHub(served: string[], delay: { ms: number }) {
  return async (route: Route) => {
    const path = new URL(route.request().url()).pathname;
    const file = /^\/test-org\/tiny-hub\/resolve\/main\/(.+)$/.exec(path)?.[1];
    let body: Buffer;
    try {
      body = readFileSync(join('models', 'tiny-cai', file ?? '-'));
    } catch {
      return route.fulfill({ status: 404, body: 'Not found' });
    }
    served.push(file!);
    await new Promise((r) => setTimeout(r, delay.ms));
    return route.fulfill({ body, headers: { 'content-length': String(body.length) } });
  };
}

function hubExperiment() {
  const e = withFirstPrompts(defaultExperiment(), {
    redTeam: 2,
    ordinary: 1,
    heldOutRedTeam: 2,
    heldOutOrdinary: 1,
  });
  e.name = 'Hub feedback model';
  e.models.feedback = 'test-org/tiny-hub';
  e.stages.critique.rounds = 1;
  e.stages.sft.epochs = 1;
  return e;
}

test('Hub models are listed with their size and download only on a click, with progress', async () => {
  const context = await browser.newContext();
  const served: string[] = [];
  const delay = { ms: 0 };
  await context.route('https://huggingface.co/**', fakeHub(served, delay));
  const page = await context.newPage();
  await page.goto(baseUrl() + (await encodeShareLink(hubExperiment())));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const models = page.getByTestId('hub-models');
  const rows = models.getByTestId('hub-model');
  expect(await rows.count()).toBe(3); // two from the catalog, the link's own
  expect(await rows.nth(0).textContent()).toMatch(
    /SmolLM2-135M-Instruct.*(134|200) MB \(q4f?1?6?\)/,
  );
  expect(await rows.nth(2).textContent()).toMatch(
    /test-org\/tiny-hub.*size shown while it downloads/,
  );
  expect(served).toEqual([]);

  // A cancelled download leaves the experiment as it was.
  delay.ms = 1500;
  await models.getByRole('button', { name: 'Download test-org/tiny-hub' }).click();
  const download = models.getByTestId('hub-download');
  await download.locator('progress').waitFor();
  await models.getByRole('button', { name: 'Cancel' }).click();
  await expect
    .poll(() => download.getAttribute('data-state'), { timeout: 30_000 })
    .toBe('cancelled');

  // Downloaded with a progress bar, then used by a run without fetching again.
  await models.getByRole('button', { name: 'Download test-org/tiny-hub' }).click();
  // The bar counts the bytes of the files fetched so far (each file comes 1.5 s after the last).
  const bar = download.locator('progress');
  await expect
    .poll(() => bar.evaluate((p) => (p as HTMLProgressElement).value), { timeout: 30_000 })
    .toBeGreaterThan(0);
  await expect.poll(() => download.getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
  expect(served).toEqual(
    expect.arrayContaining(['tokenizer.json', 'config.json', 'onnx/model.onnx']),
  );
  expect(await download.textContent()).toMatch(/is downloaded and is the feedback model/);
  const fetched = served.length;
  const runPanel = page.getByTestId('run-panel');
  await runPanel.getByRole('button', { name: 'Run SL-CAI' }).click();
  await expect
    .poll(() => runPanel.locator('[data-state="done"]').count(), {
      timeout: 180_000,
      interval: 1000,
    })
    .toBe(5);
  expect(await runPanel.getByRole('alert').count()).toBe(0);
  expect(served.length).toBe(fetched);
  await context.close();
}, 300_000);
