/**
 * `npm run bench`'s kernel part (dispatches and time per step, stock against fused, written
 * as its own section of BENCHMARKS.md) and `--device-check` (tokens/s on a real GPU).
 */
import { writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { BackendName } from '../../src/lib/domain/backend.ts';
import {
  benchKernelsIn,
  deviceCheckRuns,
  deviceCheckRequest,
  deviceCheckTable,
  kernelShape,
  kernelsTable,
} from './bench-kernels.ts';
import { describeMachine } from './machine.ts';
import { markers, writeSection } from './bench-sections.ts';

const { start: kernelsStart, end: kernelsEnd } = markers('kernels');

/** Times the kernels; with --only kernels, writes its JSON and its BENCHMARKS.md section. */
export async function benchKernelPart(
  browser: Browser,
  url: string,
  options: { backends: BackendName[]; only: boolean; json?: string; write: boolean },
) {
  console.log('Kernels: dispatches and time per step, stock and fused…');
  const rows = await benchKernelsIn(browser, url, {
    type: 'kernelBench',
    model: 'tiny-cai',
    backends: options.backends,
    shape: kernelShape,
  });
  const { train, decode } = kernelShape;
  const section = [
    kernelsStart,
    `## Kernels: one training step (${train.batch} × ${train.seq}) and one cached decode step (batch ${decode.batch}, ${decode.past} cached) of the tiny model`,
    '',
    "Fresh weights of models/tiny-cai's architecture, in the engine worker, every row in the same run: " +
      `for each backend and step one model, a warm-up and a dispatch count per kernel set, then ${kernelShape.reps} timed steps of each set taken in turn (the median). Dispatches: GPU compute dispatches on WebGPU; kernel calls that touch data on WASM and CPU. "of stock" and "speed-up" compare each row with the stock row of its backend and step. WebGPU runs on the browser's adapter: Chromium's SwiftShader (software) on a machine without a GPU.`,
    '',
    kernelsTable(rows, kernelShape),
    kernelsEnd,
  ].join('\n');
  console.log('\n' + section);
  if (options.only) {
    if (options.json)
      writeFileSync(
        options.json,
        JSON.stringify({ machine: describeMachine(), kernels: rows }, null, 2) + '\n',
      );
    if (options.write) writeSection('kernels', section);
  }
  return { rows, section };
}

/** `--device-check`: tokens/s on this machine's GPU, printed, with --json FILE written. */
export async function deviceCheck(browser: Browser, url: string, json?: string): Promise<void> {
  const results = [];
  for (const run of deviceCheckRuns) {
    console.log(`Device check: ${run.name} on ${run.backends.join(', ')}…`);
    results.push({ run, rows: await benchKernelsIn(browser, url, deviceCheckRequest(run)) });
  }
  const text = [`Device check on ${describeMachine()}`, '', deviceCheckTable(results)].join('\n');
  console.log('\n' + text);
  if (json)
    writeFileSync(
      json,
      JSON.stringify({ machine: describeMachine(), deviceCheck: results }, null, 2) + '\n',
    );
}
