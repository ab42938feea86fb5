import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import { launchChromium, watchPage, type PageProblems } from '../../scripts/lib/browser.ts';

export const baseUrl = () => inject('baseUrl');

/** Opens the app at `query` in a fresh page and waits until the engine has chosen a backend. */
export async function openApp(
  browser: Browser,
  query = '',
): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(baseUrl() + query);
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  return { page, problems };
}

export { launchChromium };
