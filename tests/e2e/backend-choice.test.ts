import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp, shownNumber } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

test('auto mode picks WASM here, and the badge says why WebGPU was not chosen', async () => {
  const { page } = await openApp(browser);
  expect(await page.getByTestId('backend-name').textContent()).toMatch(/^WASM · 2 threads/);
  expect(await page.getByTestId('backend-why').textContent()).toBe(
    'WebGPU adapter is a software fallback',
  );
  await page.getByTestId('backend-badge').click();
  const gpuRow = page.locator('tr[data-backend="webgpu"]');
  expect(await gpuRow.textContent()).toMatch(/rejected: software adapter \(google swiftshader/);
  expect(await page.locator('tr[data-backend="wasm"]').textContent()).toContain('chosen');
  expect(await page.locator('tr[data-backend="cpu"]').textContent()).toMatch(/rejected: slower/);
  expect(await page.getByTestId('adapter').textContent()).toContain('(software)');
  await page.close();
});

test('forced WebGPU: a matmul and three Adam steps match the CPU backend', async () => {
  const { page, problems } = await openApp(browser, '?backend=webgpu');
  expect(await page.getByTestId('backend-name').textContent()).toMatch(/^WebGPU/);
  expect(await page.getByTestId('backend-why').textContent()).toBe('forced by ?backend=webgpu');
  await page.getByTestId('backend-badge').click();
  await page.getByRole('button', { name: 'Run check' }).click();
  await page.getByTestId('cross-check-verdict').waitFor({ timeout: 90_000 });
  expect(await page.getByTestId('cross-check-verdict').textContent()).toBe('Match: WebGPU vs CPU');
  expect(await shownNumber(page, 'diff-matmul')).toBeLessThan(1e-4);
  expect(await shownNumber(page, 'diff-loss')).toBeLessThan(1e-5);
  expect(await shownNumber(page, 'diff-weights')).toBeLessThan(1e-5);
  const losses = (await page.getByTestId('losses').textContent())!.split('/');
  expect(losses[0]!.trim()).toBe(losses[1]!.trim()); // equal to 6 decimals
  expect(problems.pageErrors).toEqual([]);
  await page.close();
});

test('a lost GPU device mid-run: the engine falls back to WASM, says so, and finishes the work', async () => {
  const { page } = await openApp(browser, '?backend=webgpu');
  const outcome = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const { hadDevice } = await engine.request({ type: 'loseDevice', delayMs: 20 });
    const check = await engine.request({ type: 'crossCheck', size: 32, steps: 3, seed: 5 });
    return { hadDevice, backend: check.active.backend, diff: check.weightMaxAbsDiff };
  });
  expect(outcome.hadDevice).toBe(true);
  expect(outcome.backend).toBe('wasm');
  expect(outcome.diff).toBeLessThan(1e-5);
  expect(await page.getByTestId('backend-name').textContent()).toMatch(/^WASM/);
  expect(await page.getByTestId('backend-why').textContent()).toBe('WebGPU failed at run time');
  await page.getByTestId('backend-badge').click();
  expect(await page.getByTestId('engine-fallback').textContent()).toMatch(/GPU device lost/);
  await page.close();
});

type PlaygroundHandle = import('./fixtures.ts').PlaygroundHandle;
