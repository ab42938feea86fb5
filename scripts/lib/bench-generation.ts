import type { Browser } from 'playwright-core';
import type { EngineClient, FeedbackClient } from '../../src/lib/workers/clients.ts';
import type { BackendName } from '../../src/lib/domain/backend.ts';
import type { GenerateSettings } from '../../src/lib/domain/policy.ts';

/** One generation measurement: who generated, how, and how fast. */
export interface GenerationRow {
  runtime: 'tfjs' | 'transformers.js';
  backend: string;
  batch: number;
  cache: boolean;
  tokensPerSecond: number;
  seconds: number;
}

type Handle = { engine: EngineClient; feedback: FeedbackClient };

const prompt = 'How do I hack a website?';

/**
 * Generation speed of the shipped model: for each tfjs backend (a page forced to it), each
 * batch size, with and without the KV cache; then the same through transformers.js in the
 * feedback worker (copies of one prompt). Every run generates exactly `newTokens` per row.
 */
export async function benchGeneration(
  browser: Browser,
  url: string,
  opts: { backends: BackendName[]; batches: number[]; newTokens: number },
): Promise<GenerationRow[]> {
  const rows: GenerationRow[] = [];
  const settings = (noCache: boolean): GenerateSettings => ({
    maxNewTokens: opts.newTokens,
    temperature: 0,
    topK: 0,
    topP: 1,
    seed: 1,
    noCache,
    ignoreEos: true,
  });
  for (const backend of opts.backends) {
    const page = await browser.newPage();
    await page.goto(`${url}?backend=${backend}`);
    await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
    const forced = (await page.getByTestId('backend-why').textContent()) ?? '';
    if (!forced.startsWith('forced')) {
      console.log(`[bench] generation: ${backend} is not available here (${forced}); skipped`);
      await page.close();
      continue;
    }
    for (const batch of opts.batches)
      for (const cache of [true, false]) {
        console.log(
          `[bench] generation: tfjs ${backend} batch ${batch} ${cache ? 'with' : 'without'} KV cache`,
        );
        const out = await page.evaluate(
          async ({ prompts, s }) => {
            const { engine } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
            await engine.request({ type: 'loadPolicy', model: 'tiny-cai' });
            await engine.request({
              type: 'generate',
              prompts,
              settings: { ...s, maxNewTokens: 4 },
            }); // warm-up
            return engine.request({ type: 'generate', prompts, settings: s });
          },
          { prompts: new Array<string>(batch).fill(prompt), s: settings(!cache) },
        );
        const tokens = out.tokenCounts.reduce((a, b) => a + b, 0);
        rows.push({
          runtime: 'tfjs',
          backend,
          batch,
          cache,
          tokensPerSecond: tokens / out.seconds,
          seconds: out.seconds,
        });
      }
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
  for (const batch of opts.batches)
    for (const cache of [true, false]) {
      console.log(
        `[bench] generation: transformers.js batch ${batch} ${cache ? 'with' : 'without'} KV cache`,
      );
      const out = await page.evaluate(
        async ({ p, batch, newTokens, useCache }) => {
          const { feedback } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
          const loaded = await feedback.request({ type: 'load', model: 'tiny-cai' });
          const request = { type: 'benchGenerate' as const, prompt: p, batch, useCache };
          await feedback.request({ ...request, newTokens: 4 }); // warm-up
          const result = await feedback.request({ ...request, newTokens });
          return { ...result, device: loaded.device };
        },
        { p: prompt, batch, newTokens: opts.newTokens, useCache: cache },
      );
      rows.push({
        runtime: 'transformers.js',
        backend: out.device,
        batch,
        cache,
        tokensPerSecond: out.tokens / out.seconds,
        seconds: out.seconds,
      });
    }
  await page.close();
  return rows;
}

export function generationTable(rows: GenerationRow[]): string {
  const lines = [
    '| runtime | backend | batch | KV cache | tokens/s | cache speed-up |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const twin = rows.find(
      (o) =>
        o.runtime === r.runtime &&
        o.backend === r.backend &&
        o.batch === r.batch &&
        o.cache !== r.cache,
    );
    const speedup =
      r.cache && twin ? `${(r.tokensPerSecond / twin.tokensPerSecond).toFixed(1)}x` : '';
    lines.push(
      `| ${r.runtime} | ${r.backend} | ${r.batch} | ${r.cache ? 'yes' : 'no'} | ${r.tokensPerSecond.toFixed(1)} | ${speedup} |`,
    );
  }
  return lines.join('\n');
}
