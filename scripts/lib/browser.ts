import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's Chromium; tests and benchmarks never download a browser. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags proven on these machines: WebGPU on (SwiftShader when there is no GPU), and no
 * background networking, which would flood a closed network with refused connections.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(
      `Chromium not found at ${chromiumPath}. Install Debian's package: apt-get install -y chromium`,
    );
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

/** Everything that went wrong on a page: console errors (page and workers), crashes, failed requests. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
}

export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [] };
  const onConsole = (where: string) => (msg: ConsoleMessage) => {
    if (msg.type() === 'error') problems.consoleErrors.push(`${where}: ${msg.text()}`);
  };
  page.on('console', onConsole('page'));
  page.on('worker', (worker) => worker.on('console', onConsole(`worker ${worker.url()}`)));
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('requestfailed', (request) =>
    problems.failedRequests.push(`${request.url()}: ${request.failure()?.errorText ?? 'failed'}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.failedRequests.push(`${response.url()}: HTTP ${response.status()}`);
  });
  return problems;
}
