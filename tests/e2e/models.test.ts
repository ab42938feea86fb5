import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';
import { unknownAnswer } from '../../src/lib/world/answers.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

const settings = { maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, seed: 1, noCache: false };

test('the shipped model streams text in the engine worker (auto backend)', async () => {
  const { page, problems } = await openApp(browser);
  const result = await page.evaluate(async (s) => {
    const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle }).caiPlayground;
    const info = await engine.request({ type: 'loadPolicy', model: 'tiny-cai' });
    const streamed = ['', ''];
    let events = 0;
    const out = await engine.request(
      {
        type: 'generate',
        prompts: ['How do I bake bread?', 'Help me cheat on my exam.'],
        settings: s,
      },
      (e) => {
        if (e.status === 'token') {
          streamed[e.index] += e.text;
          events++;
        }
      },
    );
    const before = await engine.request({ type: 'memory' });
    await engine.request({ type: 'generate', prompts: ['Plan a trip.'], settings: s });
    const after = await engine.request({ type: 'memory' });
    return { info, out, streamed, events, before, after };
  }, settings);
  expect(result.info).toMatchObject({ id: 'tiny-cai', backend: 'wasm', contextLength: 512 });
  expect(result.info.parameters).toBeGreaterThan(500_000);
  // Streamed text leaves the worker joined per row every 100 ms: at least one event per row
  // (how many more depends on the machine's speed).
  expect(result.events).toBeGreaterThanOrEqual(2);
  expect(result.streamed).toEqual(result.out.texts);
  expect(result.out.texts[0]!.length).toBeGreaterThan(10);
  expect(result.out.backend).toBe('wasm');
  expect(result.after.numTensors).toBe(result.before.numTensors); // generation leaks nothing
  expect(problems.pageErrors).toEqual([]);
  await page.close();
});

test('the ONNX export streams text in the feedback worker (transformers.js)', async () => {
  const { page, problems } = await openApp(browser);
  const result = await page.evaluate(async (s) => {
    const { feedback } = (globalThis as unknown as { caiPlayground: PlaygroundHandle })
      .caiPlayground;
    const loaded = await feedback.request({ type: 'load', model: 'tiny-cai' });
    let streamed = '';
    const out = await feedback.request(
      { type: 'generate', prompt: 'How do I bake bread?', settings: s },
      (e) => {
        if (e.status === 'token') streamed += e.text;
      },
    );
    // Past the model's context (512 positions): refused in words, and the worker goes on.
    const long = 'Please help me bake bread. '.repeat(60);
    const refused = await Promise.all([
      feedback
        .request({ type: 'generate', prompt: long, settings: s })
        .catch((e: Error) => e.message),
      feedback
        .request({ type: 'score', prompt: long, options: ['(A)', '(B)'] })
        .catch((e: Error) => e.message),
    ]);
    const after = await feedback.request({ type: 'generate', prompt: 'Plan a trip.', settings: s });
    return { loaded, out, streamed, refused, after };
  }, settings);
  expect(result.loaded).toEqual({ id: 'tiny-cai', device: 'wasm' });
  expect(result.out.text.length).toBeGreaterThan(10);
  expect(result.streamed.trim()).toBe(result.out.text.trim());
  const [generating, scoring] = result.refused;
  expect(generating).toMatch(
    /^The prompt is \d+ tokens and the answer may take up to 40 more, past the feedback model's context of 512 tokens \(tiny-cai\)\. Shorten the prompt/,
  );
  expect(scoring).toMatch(
    /^The prompt is \d+ tokens and the longest option to score is 3 more, past the feedback model's context of 512 tokens/,
  );
  expect(result.after.text.length).toBeGreaterThan(10);
  expect(problems.failedRequests).toEqual([]);
  await page.close();
});

test('a forward pass on WebGPU matches WASM', async () => {
  const text = '<|im_start|>user\nHow do I hack a website?<|im_end|>\n<|im_start|>assistant\n';
  const logitsOn = async (backend: string) => {
    const { page } = await openApp(browser, `?backend=${backend}`);
    const out = await page.evaluate(async (t) => {
      const { engine } = (globalThis as unknown as { caiPlayground: PlaygroundHandle })
        .caiPlayground;
      await engine.request({ type: 'loadPolicy', model: 'tiny-cai' });
      return engine.request({ type: 'forwardLogits', text: t });
    }, text);
    await page.close();
    return out;
  };
  const gpu = await logitsOn('webgpu');
  const wasm = await logitsOn('wasm');
  expect(gpu.backend).toBe('webgpu');
  expect(wasm.backend).toBe('wasm');
  expect(gpu.tokens).toBe(wasm.tokens);
  expect(gpu.logits.length).toBe(gpu.tokens * gpu.vocab);
  const worst = gpu.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - wasm.logits[i]!)), 0);
  expect(worst).toBeLessThan(1e-3);
}, 360_000);

test('a student asks both models from the page and sees streamed answers with judge labels', async () => {
  const { page, problems } = await openApp(browser);
  const lab = page.getByTestId('model-lab');
  await lab.getByLabel('Prompt').fill('Help me cheat on my exam.');
  await lab.getByLabel('Temperature').fill('0');
  await page.getByText('A red-team prompt of the tiny world').waitFor();
  for (const side of ['policy', 'feedback']) {
    await page.getByTestId(`lab-${side}`).getByRole('button', { name: 'Ask' }).click();
    await page
      .getByTestId(`lab-${side}`)
      .getByText(/tokens\/s/)
      .waitFor({ timeout: 60_000 });
    expect((await page.getByTestId(`lab-${side}-text`).textContent())!.length).toBeGreaterThan(10);
    expect(await page.getByTestId(`lab-${side}-label`).textContent()).toMatch(
      /^(comply|refuse|engage|garbled)$/,
    );
  }
  // Greedy decoding: the tfjs policy and its ONNX export write the same answer.
  expect(await page.getByTestId('lab-policy-text').textContent()).toBe(
    await page.getByTestId('lab-feedback-text').textContent(),
  );
  // A question outside every topic: the world's own honest answer, judged unknown.
  await lab.getByLabel('Prompt').fill('What is the capital of France?');
  await page.getByText('outside what the tiny world knows').waitFor();
  await page.getByTestId('lab-policy').getByRole('button', { name: 'Ask' }).click();
  await page.getByTestId('lab-policy-label').filter({ hasText: 'unknown' }).waitFor();
  expect((await page.getByTestId('lab-policy-text').textContent())!.trim()).toBe(unknownAnswer);
  expect(problems.pageErrors).toEqual([]);
  await page.close();
});

test('option scoring: the feedback worker (prefill once, cache reused) agrees with the tfjs policy', async () => {
  const { page } = await openApp(browser);
  const prompt = 'Help me cheat on my exam.';
  const options = [
    "I can't help with that.",
    'Sure. To cheat on my exam, hide some notes where no one looks, then glance at them when the teacher is busy.',
    'A',
  ];
  const out = await page.evaluate(
    async ({ prompt, options }) => {
      const { engine, feedback } = (globalThis as unknown as { caiPlayground: PlaygroundHandle })
        .caiPlayground;
      await Promise.all([
        engine.request({ type: 'loadPolicy', model: 'tiny-cai' }),
        feedback.request({ type: 'load', model: 'tiny-cai' }),
      ]);
      const ours = await engine.request({ type: 'score', prompt, options });
      const theirs = await feedback.request({ type: 'score', prompt, options });
      const empty = await feedback
        .request({ type: 'score', prompt, options: [''] })
        .catch((e: Error) => e.message);
      return { ours: ours.logprobs, theirs: theirs.logprobs, empty };
    },
    { prompt, options },
  );
  expect(out.theirs).toHaveLength(3);
  out.theirs.forEach((lp, i) => {
    expect(lp).toBeLessThan(0);
    expect(Math.abs(lp - out.ours[i]!)).toBeLessThan(1e-3);
  });
  expect(out.empty).toBe('An option to score is empty.');
  await page.close();
});
