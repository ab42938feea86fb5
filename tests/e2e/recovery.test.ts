import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
/** A real export (tests/fixtures/make-run-export.ts): its record and events, as stored. */
const fixture = (): { meta: Json; events: Json[] } =>
  JSON.parse(readFileSync(new URL('../fixtures/run-export.json', import.meta.url), 'utf8'));

/** The app in a browser context of its own (an empty store), opened, with its page errors. */
async function freshPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(baseUrl());
  await page.getByTestId('editor').waitFor();
  return { context, page, pageErrors };
}

/** Writes a run record and event chunks straight into the app's IndexedDB, as a damaged or
 * older store would hold them. */
async function storeRun(page: Page, meta: Json, chunks: Json[]): Promise<void> {
  await page.evaluate(
    async ({ meta, chunks }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('cai-playground');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const tx = db.transaction(['runs', 'events'], 'readwrite');
      tx.objectStore('runs').put(meta);
      chunks.forEach((c, chunk) => tx.objectStore('events').put({ run: meta.id, chunk, ...c }));
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    },
    { meta, chunks },
  );
}

/** The bricking records of issue 14, each with what the page must say about it. */
const damaged: [string, (run: { meta: Json; events: Json[] }) => Json[], string][] = [
  [
    'No experiment',
    (r) => ((r.meta.experiment = null), [{ events: r.events }]),
    'meta.experiment must be an object',
  ],
  [
    'Null chunk',
    (r) => [{ events: r.events }, { events: null }],
    `events[${fixture().events.length}] must be an object (is null)`, // the second chunk's first
  ],
  [
    'Null event',
    (r) => (r.events.splice(3, 0, null), [{ events: r.events }]),
    'events[3] must be an object (is null)',
  ],
  [
    'Proto stage',
    (r) => ((r.events[0].stage = '__proto__'), [{ events: r.events }]),
    'events[0].stage must be one of',
  ],
  [
    'Far index',
    (r) => ((r.events.find((e: Json) => e.type === 'answer').index = 1e7), [{ events: r.events }]),
    "events[6].index is 10000000; this run's experiment has 8 training answers",
  ],
  [
    'Number text',
    (r) => ((r.events.find((e: Json) => e.type === 'answer').text = 42), [{ events: r.events }]),
    'events[6].text must be text (is 42)',
  ],
  [
    'Text seconds',
    (r) => (
      (r.events.find((e: Json) => e.type === 'stage-end').seconds = '3'),
      [{ events: r.events }]
    ),
    'events[3].seconds must be a number from 0 to 1000000000 (is "3")',
  ],
];

test('every damaged stored run leaves a usable page that names it and says why', async () => {
  const { context, page, pageErrors } = await freshPage();
  const unreadable = page.getByTestId('unreadable-run');

  for (const [name, damage, message] of damaged) {
    const run = fixture();
    run.meta = { ...run.meta, id: `run-${name.replace(' ', '-')}`, name, created: Date.now() };
    await storeRun(page, run.meta, damage(run));
    await page.reload();
    await unreadable.waitFor();
    const said = (await unreadable.textContent()) ?? '';
    expect(said, name).toContain(`The saved run “${name}” could not be opened: `);
    expect(said, name).toContain(message);
    // The page is usable: the editor is there and the saved runs list the damaged one.
    await page.getByTestId('editor').waitFor();
    expect(await page.getByTestId('damaged-run').textContent()).toContain(
      `${name} · damaged, cannot be opened`,
    );
    const download = page.waitForEvent('download');
    await unreadable.getByRole('button', { name: 'Export it (JSON)' }).click();
    expect((await download).suggestedFilename()).toBe(
      `${name.replace(' ', '-').toLowerCase()}.run.json`,
    );
    await unreadable.getByRole('button', { name: 'Delete it' }).click();
    await expect.poll(() => unreadable.count()).toBe(0);
    await expect.poll(() => page.getByTestId('damaged-run').count()).toBe(0);
  }

  // A damaged run older than a good one: the good one reopens, the damaged one is listed.
  const old = fixture();
  old.meta = { ...old.meta, id: 'run-old', name: 'Old broken', created: 1, experiment: null };
  await storeRun(page, old.meta, [{ events: old.events }]);
  const good = fixture();
  good.meta = { ...good.meta, id: 'run-good', created: Date.now() };
  await storeRun(page, good.meta, [{ events: good.events }]);
  await page.reload();
  await page.getByTestId('run-results').waitFor();
  expect(await unreadable.count()).toBe(0);
  const listed = page.getByTestId('damaged-run');
  expect(await listed.textContent()).toContain('Old broken · damaged, cannot be opened');
  await listed.getByRole('button', { name: 'Why?' }).click();
  await unreadable.waitFor();
  expect(await unreadable.textContent()).toContain('meta.experiment must be an object');
  await listed.getByRole('button', { name: 'Delete damaged run Old broken' }).click();
  await expect.poll(() => listed.count()).toBe(0);
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('a panel that fails to draw a good run is caught: the page says so and recovers', async () => {
  const { context, page } = await freshPage();
  const run = fixture();
  await storeRun(page, run.meta, [{ events: run.events }]);
  // Any drawing failure will do: the saved runs list formats each run's date with this.
  await page.addInitScript(() => {
    Date.prototype.toLocaleString = () => {
      throw new Error('Dates cannot be shown');
    };
  });
  await page.reload();
  const recovery = page.getByTestId('page-recovery');
  await recovery.waitFor();
  expect(await recovery.textContent()).toContain(
    'Dates cannot be shown. Nothing stored was changed. It happened while showing the run “Fuzz fixture”.',
  );
  await recovery.getByRole('button', { name: 'Delete the run “Fuzz fixture”' }).click();
  await page.getByTestId('editor').waitFor();
  await page.reload();
  await page.getByTestId('editor').waitFor();
  expect(await recovery.count()).toBe(0);
  await context.close();
});

test('the same held-out prompt twice: refused with a message before a run, and a reload stays usable', async () => {
  const { context, page, pageErrors } = await freshPage();
  await page.getByText(/^Held-out red-team prompts \(/).click();
  const box = page.getByLabel('Held-out red-team prompts');
  const prompts = ((await box.inputValue()) ?? '').split('\n');
  await box.fill([prompts[0], ...prompts].join('\n'));
  await box.blur();
  const repeated = `prompts.heldOut.redTeam[1] repeats prompt 1 ("${prompts[0]!.slice(0, 60)}")`;
  await page.getByText(repeated).first().waitFor();
  await page.getByRole('button', { name: 'Run SL-CAI' }).click();
  await page.getByText('The experiment has problems to fix first:').waitFor();
  await page.reload();
  await page.getByTestId('editor').waitFor();
  await page.getByRole('button', { name: 'Run SL-CAI' }).waitFor();
  expect(await page.getByText('Opening your last experiment').count()).toBe(0);
  expect(pageErrors).toEqual([]);
  await context.close();
});
