import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultExperiment } from '../../src/lib/state/experiment.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Writes a run straight into the app's IndexedDB, as a damaged or older store would hold it. */
async function storeRun(page: Page, name: string, events: unknown[]): Promise<void> {
  const meta = {
    id: `run-${name}`,
    name,
    created: Date.now(),
    stages: 'sl',
    status: 'finished',
    experiment: defaultExperiment(),
    report: null,
    error: null,
  };
  await page.evaluate(
    async ({ meta, events }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('cai-playground');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const tx = db.transaction(['runs', 'events'], 'readwrite');
      tx.objectStore('runs').put(meta);
      tx.objectStore('events').put({ run: meta.id, chunk: 0, events });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    },
    { meta, events },
  );
}

test('a stored run that cannot be read or drawn leaves a usable page that says what to do', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(baseUrl());
  await page.getByTestId('editor').waitFor();

  // An event naming a step this app does not know: the run is named, with Export and Delete.
  await storeRun(page, 'Odd steps', [{ type: 'stage-start', stage: 'generate', label: 'warp' }]);
  await page.reload();
  const unreadable = page.getByTestId('unreadable-run');
  await unreadable.waitFor();
  expect(await unreadable.textContent()).toContain(
    'The saved run “Odd steps” could not be opened (A stored event names a step this app does not know: warp.)',
  );
  await page.getByTestId('editor').waitFor();
  await unreadable.getByRole('button', { name: 'Delete it' }).click();
  await expect.poll(() => unreadable.count()).toBe(0);

  // A number where an answer's text belongs makes the chain view throw: the page says so and
  // recovers.
  await storeRun(page, 'No result', [
    { type: 'answer', index: 0, kind: 'red-team', prompt: 'Hack a site.', text: 42 },
    {
      type: 'critique',
      index: 0,
      round: 0,
      principle: 'Be kind.',
      mode: 'plain',
      critiquePrompt: 'CP',
      text: 'Bad.',
    },
    { type: 'revision', index: 0, round: 0, revisionPrompt: 'RP', text: 'Fixed.' },
  ]);
  await page.reload();
  const recovery = page.getByTestId('page-recovery');
  await recovery.waitFor();
  expect(await recovery.textContent()).toContain('It happened while showing the run “No result”.');
  await recovery.getByRole('button', { name: 'Delete the run “No result”' }).click();
  await page.getByTestId('editor').waitFor();
  await page.reload();
  await page.getByTestId('editor').waitFor();
  expect(await recovery.count()).toBe(0);
  expect(pageErrors).toEqual([]);
  await context.close();
});
