import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runFile } from '../../src/lib/state/exports.ts';
import { defaultExperiment } from '../../src/lib/state/experiment.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test('the same run file imports twice; a file without a valid version is refused in words', async () => {
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
  await page.getByText('This run export is damaged: it has no valid format version.').waitFor();
  expect(problems).toEqual([]);
  await page.close();
});
