import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { baseUrl, launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

test('the engine worker computes off the main thread: no main-thread task blocks for seconds', async () => {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const entries: { start: number; duration: number }[] = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) entries.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    Object.assign(globalThis, { longTasks: entries });
  });
  await page.goto(baseUrl());
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const result = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const start = performance.now();
    let events = 0;
    const bench = await engine.request(
      { type: 'matmulBench', sizes: [256, 512], reps: 5, backends: ['wasm', 'cpu'] },
      () => events++,
    );
    await new Promise((r) => setTimeout(r, 100)); // let the observer deliver
    const longTasks = (
      globalThis as unknown as { longTasks: { start: number; duration: number }[] }
    ).longTasks;
    return {
      events,
      rows: bench.rows.length,
      during: longTasks.filter((t) => t.start >= start),
    };
  });
  expect(result.rows).toBe(4);
  expect(result.events).toBeGreaterThan(0);
  // The bench did run (its rows and progress events came back); a main-thread task of several
  // seconds would mean it ran on the page. Shorter tasks depend on the machine: the bench's.
  expect(result.during.filter((t) => t.duration > 5000)).toEqual([]);
  await page.close();
});

test('a cancelled request stops between steps, restores the backend and leaks no tensor', async () => {
  const { page } = await openApp(browser);
  const result = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const before = await engine.request({ type: 'memory' });
    let call: { cancel(): void } | null = null;
    call = engine.call(
      { type: 'matmulBench', sizes: [256, 256, 256], reps: 50, backends: ['cpu'] },
      (event) => {
        if (event.status === 'progress' && event.done === 1) call?.cancel();
      },
    );
    const outcome = await (call as unknown as { result: Promise<unknown> }).result.then(
      () => 'finished',
      (error: { cancelled: boolean; message: string }) => `${error.cancelled}: ${error.message}`,
    );
    const after = await engine.request({ type: 'memory' });
    return { outcome, before, after };
  });
  expect(result.outcome).toBe('true: Cancelled.');
  expect(result.after.backend).toBe('wasm');
  expect(result.before.numTensors).toBe(0); // the start-up probes left nothing behind
  expect(result.after.numTensors).toBe(0);
  await page.close();
});

test('the engine refuses an init with an unknown backend and keeps its backend', async () => {
  const { page } = await openApp(browser);
  const result = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const outcome = await engine.request({ type: 'init', backend: 'tpu' as never }).then(
      () => 'accepted',
      (error: { message: string }) => error.message,
    );
    return { outcome, after: (await engine.request({ type: 'memory' })).backend };
  });
  expect(result).toEqual({
    outcome: '"tpu" is not a backend: use auto, webgpu, wasm, cpu.',
    after: 'wasm',
  });
  await page.close();
});
