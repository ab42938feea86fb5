import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openApp, type PlaygroundHandle } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

test('model folders that cannot be loaded are said in words, and the workers go on', async () => {
  const { page, problems } = await openApp(browser);
  // Two stand-in folders, served in the workers' requests: "damaged" is the shipped model with
  // an ONNX file of garbage; "halfway" lacks its tokenizer_config.json.
  await page.route(/\/models\/(damaged|halfway)\//, (route) => {
    const [, folder, file] = /\/models\/(\w+)\/(.+)$/.exec(
      new URL(route.request().url()).pathname,
    )!;
    if (folder === 'halfway' && file === 'tokenizer_config.json')
      return route.fulfill({ status: 404, body: 'Not found' });
    const body =
      folder === 'damaged' && file === 'onnx/model.onnx'
        ? Buffer.from('this is not a protobuf file at all'.repeat(40))
        : readFileSync(join('models', 'tiny-cai', file!));
    const type = file!.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return route.fulfill({ body, headers: { 'content-type': type } });
  });
  const settings = { maxNewTokens: 20, temperature: 0, topK: 0, topP: 1, seed: 1, noCache: false };
  const said = await page.evaluate(async (s) => {
    const { engine, feedback } = (globalThis as unknown as { caiPlayground: PlaygroundHandle })
      .caiPlayground;
    const message = (p: Promise<unknown>) =>
      p.then(
        () => 'loaded',
        (e: Error) => e.message,
      );
    return {
      policyMissing: await message(engine.request({ type: 'loadPolicy', model: 'nope' })),
      feedbackMissing: await message(feedback.request({ type: 'load', model: 'nope' })),
      halfway: await message(feedback.request({ type: 'load', model: 'halfway' })),
      damaged: await message(feedback.request({ type: 'load', model: 'damaged' })),
      policyHub: await message(engine.request({ type: 'loadPolicy', model: 'Xenova/gpt2' })),
      // The workers go on: the shipped model loads after all of that (transformers.js would
      // fail every load after the damaged one; the client gave the worker a fresh start).
      after: await message(feedback.request({ type: 'load', model: 'tiny-cai' })),
      text: (await feedback.request({ type: 'generate', prompt: 'Plan a trip.', settings: s }))
        .text,
    };
  }, settings);
  const advice = 'Check the model\'s name (this app ships "tiny-cai"';
  expect(said.policyMissing).toMatch(
    /^The policy model "nope" could not be loaded: there is no model folder \/models\/nope\/ \(asked for its config.json, the server answered (with a web page instead of the file|HTTP 404)\)\./,
  );
  expect(said.policyMissing).toContain(advice);
  expect(said.feedbackMissing).toMatch(
    /^The feedback model "nope" could not be loaded: there is no/,
  );
  expect(said.halfway).toBe(
    `The feedback model "halfway" could not be loaded: the folder /models/halfway/ has no tokenizer_config.json (the server answered HTTP 404). ${advice}; its model folders are served from /models/), or put the model's files in that folder.`,
  );
  expect(said.damaged).toMatch(
    /^The feedback model "damaged" could not be loaded: its ONNX file is damaged or not an ONNX model \(ONNX Runtime says: .*\)\. Export it again \(npm run export-onnx\) or choose another feedback model\.$/,
  );
  expect(said.policyHub).toBe('The policy "Xenova/gpt2" must be a model folder of this app.');
  expect(said.after).toBe('loaded');
  expect(said.text.length).toBeGreaterThan(5);
  expect(problems.pageErrors).toEqual([]);

  // In the editor, a Hub id as the policy cannot keep the tiny world's judge: said at once.
  await page.getByLabel('Policy', { exact: true }).fill('Xenova/gpt2');
  const refusal = page.getByText(
    'but the tiny world’s judge reads only the tiny model’s answers and the policy is "Xenova/gpt2"',
  );
  await expect.poll(() => refusal.count()).toBeGreaterThan(0);
  // Its download is asked for, never done on its own.
  expect(await page.getByTestId('hub-consent').textContent()).toContain('Xenova/gpt2');
  await page.close();
});
