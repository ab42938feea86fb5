import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

test('the app loads isolated, with no console errors and no failed requests', async () => {
  const { page, problems } = await openApp(browser);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect.poll(() => page.getByTestId('backend-name').textContent()).toBeTruthy();
  // The feedback worker (transformers.js) reports too.
  await page.getByTestId('backend-badge').click();
  await page.getByText(/transformers\.js \d/).waitFor();
  expect(problems).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [] });
  await page.close();
});
