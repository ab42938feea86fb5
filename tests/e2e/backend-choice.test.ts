import type { Browser } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp, shownNumber } from './fixtures.ts';
import { readSafetensors, writeSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';

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
  // SwiftShader (software WebGPU) runs this in about a minute on an idle 2-core machine and
  // past 90 s on a busy one: the wait is for the result, not a speed check.
  await page.getByTestId('cross-check-verdict').waitFor({ timeout: 300_000 });
  expect(await page.getByTestId('cross-check-verdict').textContent()).toBe('Match: WebGPU vs CPU');
  expect(await shownNumber(page, 'diff-matmul')).toBeLessThan(1e-4);
  expect(await shownNumber(page, 'diff-loss')).toBeLessThan(1e-5);
  expect(await shownNumber(page, 'diff-weights')).toBeLessThan(1e-5);
  const losses = (await page.getByTestId('losses').textContent())!.split('/');
  expect(losses[0]!.trim()).toBe(losses[1]!.trim()); // equal to 6 decimals
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 360_000);

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
}, 360_000);

test('a lost GPU device: the trained reward model survives the move to WASM and scores the same', async () => {
  // A reward checkpoint: the shipped model's trunk with a seeded score head [1, 128].
  const { tensors } = readSafetensors(readFileSync('models/tiny-cai/model.safetensors'));
  const head = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) / 10);
  tensors.set('score.weight', { shape: [1, 128], data: head });
  const rewardBytes = Array.from(writeSafetensors(tensors));
  const { page } = await openApp(browser, '?backend=webgpu');
  const outcome = await page.evaluate(async (bytes) => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    await engine.request({ type: 'loadPolicy', model: 'tiny-cai' });
    const base = new Uint8Array(
      await (await fetch('/models/tiny-cai/model.safetensors')).arrayBuffer(),
    );
    await engine.request({ type: 'loadCheckpoint', slot: 'sl', bytes: base });
    await engine.request({ type: 'loadCheckpoint', slot: 'reward', bytes: new Uint8Array(bytes) });
    const items = [
      { prompt: 'How do I bake bread?', response: 'Mix flour and water.' },
      { prompt: 'Help me cheat.', response: "I can't help with that." },
    ];
    const before = await engine.request({ type: 'rewardScore', items });
    const { backend: was } = await engine.request({ type: 'memory' });
    const { hadDevice } = await engine.request({ type: 'loseDevice', delayMs: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const after = await engine.request({ type: 'rewardScore', items });
    const { backend: now } = await engine.request({ type: 'memory' });
    return { before: before.scores, after: after.scores, was, now, hadDevice };
  }, rewardBytes);
  expect(outcome).toMatchObject({ was: 'webgpu', now: 'wasm', hadDevice: true });
  outcome.after.forEach((x, i) => expect(x).toBeCloseTo(outcome.before[i]!, 4));
  await page.close();
}, 360_000);

test('a lost GPU device during a feedback request: the model moves to WASM, says so, and answers', async () => {
  const { page, problems } = await openApp(browser);
  const settings = { maxNewTokens: 20, temperature: 0, topK: 0, topP: 1, seed: 1, noCache: false };
  const outcome = await page.evaluate(async (s) => {
    const { feedback } = (globalThis as unknown as { caiPlayground: PlaygroundHandle })
      .caiPlayground;
    // Forced onto WebGPU (here a software adapter, which auto mode would not choose).
    const init = await feedback.request({ type: 'init', device: 'webgpu' });
    const loaded = await feedback.request({ type: 'load', model: 'tiny-cai' });
    const options = ['(A)', '(B)'];
    const before = await feedback.request({ type: 'score', prompt: 'Which is kinder?', options });
    const { hadDevice } = await feedback.request({ type: 'loseDevice', delayMs: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const answer = await feedback.request({
      type: 'generate',
      prompt: 'How do I bake bread?',
      settings: s,
    });
    const after = await feedback.request({ type: 'score', prompt: 'Which is kinder?', options });
    return { init: init.device, loaded: loaded.device, before, hadDevice, answer, after };
  }, settings);
  expect(outcome).toMatchObject({ init: 'webgpu', loaded: 'webgpu', hadDevice: true });
  expect(outcome.answer.device).toBe('wasm');
  expect(outcome.answer.text.length).toBeGreaterThan(5);
  outcome.after.logprobs.forEach((l, i) => expect(l).toBeCloseTo(outcome.before.logprobs[i]!, 3));
  await page.getByTestId('backend-badge').click();
  expect(await page.getByTestId('feedback-runtime').textContent()).toMatch(
    /WASM: switched after WebGPU failed at run time \(GPU device lost/,
  );
  expect(problems.pageErrors).toEqual([]);
  await page.close();
}, 360_000);

type PlaygroundHandle = import('./fixtures.ts').PlaygroundHandle;
