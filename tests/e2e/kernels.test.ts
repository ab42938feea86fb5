import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';
import type { PageProblems } from '../../scripts/lib/browser.ts';
import type { KernelBenchRow } from '../../src/lib/domain/kernels.ts';

// One page on WebGPU for the whole file, the tests in order (a WebGPU page starts slowly on a
// software adapter); the last one loses its GPU device.
let browser: Browser;
let page: Page;
let problems: PageProblems;
beforeAll(async () => {
  browser = await launchChromium();
  ({ page, problems } = await openApp(browser, '?backend=webgpu&kernels=fused'));
  await page.getByTestId('backend-badge').click();
});
afterAll(async () => browser?.close());

/** Every fused op (and the whole decoders that combine them) the check must report. */
const expectedOutputs = [
  'rmsnorm value',
  'rmsnorm d x',
  'rmsnorm d w',
  'swiglu value',
  'swiglu d gate',
  'swiglu d up',
  'attention value',
  'attention d q',
  'attention d k',
  'attention d v',
  'attention + q/k norm d q norm',
  'attention (decode, KV cache) value',
  'attention (72 tokens) d k',
  'attention (decode, 70 cached) value',
  'token log-probs (two chunks) d hidden',
  'token log-probs (two chunks) d head',
  'adamw (3 steps, 10 parameters) value',
];

/** The check's rows as "kernel output", with whether each matched. */
async function checkRows(page: Page): Promise<{ name: string; ok: boolean }[]> {
  return page
    .getByTestId('kernel-check-rows')
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => {
        const cells = [...r.querySelectorAll('td')].map((c) => c.textContent!.trim());
        return { name: `${cells[0]} ${cells[2]}`, ok: r.getAttribute('data-ok') === 'true' };
      }),
    );
}

async function runCheck(page: Page, shape: string): Promise<string> {
  await page.getByTestId('kernel-check-shape').selectOption(shape);
  await page.getByRole('button', { name: 'Check kernels against the CPU' }).click();
  const busy = page.getByRole('button', { name: 'Checking kernels…' });
  await busy.waitFor();
  await busy.waitFor({ state: 'detached', timeout: 240_000 });
  return (await page.getByTestId('kernel-check-verdict').textContent())!;
}

test('every fused kernel and its gradients match the CPU backend, at the tiny model and a SmolLM2 layer', async () => {
  const panel = page.getByTestId('kernel-check');
  expect(await panel.getByRole('radio', { name: /fused WGSL kernels/ }).isChecked()).toBe(true);
  expect((await page.getByTestId('kernel-set').textContent())?.trim()).toBe('fused WGSL kernels');

  expect(await runCheck(page, 'tiny')).toMatch(/^All match: WebGPU \(fused kernels\) vs CPU/);
  const tiny = await checkRows(page);
  for (const name of [
    ...expectedOutputs,
    'decoder generation (prefill, 2 cached steps) step 2 logits',
    'decoder training step d weights',
  ])
    expect(tiny.map((r) => r.name)).toContain(name);
  expect(tiny.filter((r) => !r.ok)).toEqual([]);

  expect(await runCheck(page, 'smollm2-layer')).toMatch(/^All match: WebGPU \(fused kernels\)/);
  const layer = await checkRows(page);
  for (const name of expectedOutputs) expect(layer.map((r) => r.name)).toContain(name);
  expect(layer.filter((r) => !r.ok)).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
}, 600_000);

test('fused kernels cut a training step to at most 1/3 and a cached decode step to at most 1/4 of the stock dispatches', async () => {
  const rows = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const shape = { train: { batch: 1, seq: 16 }, decode: { batch: 1, past: 16 }, reps: 1 };
    const bench = await engine.request({
      type: 'kernelBench',
      model: 'tiny-cai',
      backends: ['webgpu'],
      shape,
    });
    return bench.rows;
  });
  const count = (kernels: string, step: string) =>
    rows.find((r: KernelBenchRow) => r.kernels === kernels && r.step === step)!.dispatches;
  expect(count('stock', 'train')).toBeGreaterThan(0);
  expect(count('fused', 'train')).toBeLessThanOrEqual(count('stock', 'train') / 3);
  expect(count('fused', 'decode')).toBeLessThanOrEqual(count('stock', 'decode') / 4);
}, 300_000);

test("the panel's kernel switch: stock ops, then fused again, as the engine reports", async () => {
  const panel = page.getByTestId('kernel-check');
  const shown = async () => (await page.getByTestId('kernel-set').textContent())?.trim();
  await panel.getByRole('radio', { name: /stock ops only/ }).check();
  await expect.poll(shown, { timeout: 120_000 }).toBe("tfjs's stock ops");
  await panel.getByRole('radio', { name: /fused WGSL kernels/ }).check();
  await expect.poll(shown, { timeout: 120_000 }).toBe('fused WGSL kernels');
}, 300_000);

test('a bad ?kernels= value is named, not ignored, and the default runs', async () => {
  const other = await openApp(browser, '?backend=wasm&kernels=turbo');
  await expect
    .poll(() => other.page.getByText('Ignored ?kernels=turbo: use fused or stock.').count())
    .toBe(1);
  await other.page.close();
});

test('a GPU device lost in a fused kernel check: the engine moves to WASM and finishes it', async () => {
  const outcome = await page.evaluate(async () => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const { hadDevice } = await engine.request({ type: 'loseDevice', delayMs: 300 });
    const check = await engine.request({ type: 'kernelCheck', shapes: ['tiny'], seed: 2 });
    return { hadDevice, backend: check.backend, ok: check.ok };
  });
  expect(outcome).toEqual({ hadDevice: true, backend: 'wasm', ok: true });
  expect(await page.getByTestId('engine-fallback').textContent()).toMatch(/GPU device lost/);
}, 300_000);
