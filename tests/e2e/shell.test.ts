import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { hostHeaderFiles } from '../../scripts/vite/host-headers.ts';
import { securityHeaders } from '../../scripts/vite/security-headers.ts';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { serveVite } from '../../scripts/lib/serve.ts';
import { baseUrl, launchChromium, openApp } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

test('the app loads cross-origin isolated, with no console errors and no failed requests', async () => {
  const { page, problems } = await openApp(browser);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await page.getByTestId('backend-badge').click();
  // The feedback worker (transformers.js) is up too, with its WASM from this origin.
  await expect
    .poll(() => page.getByTestId('feedback-runtime').textContent())
    .toMatch(/transformers\.js \d+\.\d+\.\d+ on WASM/);
  await page.getByRole('heading', { name: 'The recipe' }).waitFor();
  expect(problems).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [] });
  await page.close();
});

/** A header as sent without the stand-in Hub's origin (which the preview server's CSP adds). */
const withoutStandInHub = (value: string | null) =>
  value?.replace(` ${new URL(inject('hubUrl')).origin}`, '') ?? null;

test('the server sends isolation headers and a same-origin CSP, and serves every asset itself', async () => {
  const response = await fetch(baseUrl());
  const headers = response.headers;
  expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("connect-src 'self' https://huggingface.co");
  // The only other origins: the Hugging Face Hub, for a model a user asks for by hand, and
  // the endpoint the server was started with (HF_ENDPOINT: here the tests' stand-in Hub).
  const origins = csp.match(/https?:\/\/[^\s;]+/g) ?? [];
  expect(origins).toEqual([
    'https://huggingface.co',
    'https://*.huggingface.co',
    'https://*.hf.co',
    new URL(inject('hubUrl')).origin,
  ]);

  const page = await browser.newPage();
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  await page.goto(baseUrl());
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });
  const origin = new URL(baseUrl()).origin;
  const foreign = urls.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:'));
  expect(foreign).toEqual([]);
  // Both runtimes' WASM binaries were fetched, from this origin.
  expect(urls.some((u) => /tfjs-backend-wasm-threaded-simd.*\.wasm$/.test(u))).toBe(true);
  await page.close();
});

test('the build also writes the same headers for static hosts: _headers and an nginx snippet', async () => {
  const expected = hostHeaderFiles();
  for (const [file, text] of Object.entries(expected))
    expect(readFileSync(join('dist', file), 'utf8'), file).toBe(text);
  // Each names every header the server sends, with the same value (the server's CSP adds the
  // endpoint it was started with, HF_ENDPOINT; the build was made without one).
  const sent = (await fetch(baseUrl())).headers;
  for (const [name, value] of Object.entries(securityHeaders)) {
    expect(withoutStandInHub(sent.get(name))).toBe(value);
    expect(expected._headers).toContain(`  ${name}: ${value}\n`);
    expect(expected['nginx-headers.conf']).toContain(`add_header ${name} "${value}" always;\n`);
  }
});

test('an unknown ?backend= value is reported and the choice stays automatic', async () => {
  const { page } = await openApp(browser, '?backend=tpu');
  await page.getByText('Ignored ?backend=tpu').waitFor();
  expect(await page.getByTestId('backend-why').textContent()).not.toContain('forced');
  await page.close();
});

test('the dev server sends the same isolation and CSP headers', async () => {
  const dev = await serveVite('dev');
  try {
    const preview = (await fetch(baseUrl())).headers;
    const headers = (await fetch(dev.url)).headers;
    for (const name of [
      'cross-origin-opener-policy',
      'cross-origin-embedder-policy',
      'content-security-policy',
    ])
      expect(headers.get(name)).toBe(withoutStandInHub(preview.get(name)));
  } finally {
    await dev.stop();
  }
});
