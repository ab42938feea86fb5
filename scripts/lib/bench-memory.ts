import { readdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { defaultExperiment, withFirstPrompts } from '../../src/lib/experiment/experiment.ts';
import type { EngineClient } from '../../src/lib/workers/clients.ts';

export interface MemoryBench {
  iterations: number;
  batchSize: number;
  /** Engine tensors and bytes after each PPO iteration. */
  tensors: number[];
  bytes: number[];
  /** Peak memory of the browser's processes during the run (PSS summed), MiB. */
  peakMiB: number;
  /** The same at the start of the run (page loaded, models loaded), MiB. */
  startMiB: number;
  seconds: number;
}

/**
 * Memory (KiB) of Chromium's processes below `root`: their proportional set sizes summed
 * (shared pages split between the processes that share them, so nothing counts twice).
 * Other children of `root`, such as the Vite server, are left out.
 */
function browserPssKiB(root: number): number {
  const parent = new Map<number, number>();
  const chromium = new Set<number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      parent.set(pid, Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      if (/^Name:\s+chrom/im.test(status)) chromium.add(pid);
    } catch {
      // the process ended while we looked
    }
  }
  const below = (pid: number): boolean =>
    pid === root || (pid > 1 && parent.has(pid) && below(parent.get(pid)!));
  let total = 0;
  for (const pid of chromium) {
    if (!below(pid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // ended, or not readable
    }
  }
  return total;
}

/**
 * A long PPO run for memory: a small experiment (so it takes minutes) whose PPO stage runs
 * `iterations` iterations, with the engine's tensor count and bytes read after each one and
 * the browser's memory sampled twice a second.
 */
export async function benchMemory(
  browser: Browser,
  url: string,
  iterations: number,
): Promise<MemoryBench> {
  const page = await browser.newPage();
  let peak = 0;
  const sample = () => (peak = Math.max(peak, browserPssKiB(process.pid)));
  const timer = setInterval(sample, 500);
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'caiPlayground' in globalThis);
    await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
    const startMiB = browserPssKiB(process.pid) / 1024;
    const batchSize = 8;
    const experiment = withFirstPrompts(defaultExperiment(), {
      redTeam: 8,
      ordinary: 4,
      heldOutRedTeam: 2,
      heldOutOrdinary: 2,
    });
    experiment.stages.critique.rounds = 1;
    experiment.stages.sft.epochs = 1;
    Object.assign(experiment.stages.ppo, { iterations, batchSize, valueWarmup: 1 });
    const out = await page.evaluate(async (e) => {
      type Handle = {
        engine: EngineClient;
        runExperiment: (d: unknown, s: 'all', emit: (e: PipelineEvent) => void) => Promise<unknown>;
      };
      const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
      const tensors: number[] = [];
      const bytes: number[] = [];
      const pending: Promise<void>[] = [];
      let started = 0;
      await g.runExperiment(e, 'all', (event) => {
        if (event.type === 'stage-start' && event.stage === 'ppo') started = performance.now();
        if (event.type === 'samples')
          pending.push(
            g.engine.request({ type: 'memory' }).then((m) => {
              tensors.push(m.numTensors);
              bytes.push(m.numBytes);
            }),
          );
      });
      await Promise.all(pending);
      return { tensors, bytes, seconds: (performance.now() - started) / 1000 };
    }, experiment);
    sample();
    return { iterations, batchSize, ...out, peakMiB: peak / 1024, startMiB };
  } finally {
    clearInterval(timer);
    await page.close();
  }
}

/** "161 (flat)" or "161 → 170 (grew by 9)". */
function trend(values: number[], unit = ''): string {
  const first = values[0] ?? NaN;
  const last = values.at(-1) ?? NaN;
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max
    ? `${first}${unit} after every iteration (flat)`
    : `${first}${unit} after the first iteration, ${last}${unit} after the last (min ${min}, max ${max})`;
}

export function memoryText(m: MemoryBench): string {
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return [
    `PPO for ${m.iterations} iterations of ${m.batchSize} rollouts (a small experiment, ${m.seconds.toFixed(0)} s of PPO):`,
    '',
    `- engine tensors: ${trend(m.tensors)};`,
    `- engine tensor memory: ${trend(m.bytes.map(mib), ' MiB')};`,
    `- browser memory (all of Chromium's processes, proportional set sizes summed, sampled twice a second): ${m.startMiB.toFixed(0)} MiB with the page open and its models loaded, peak ${m.peakMiB.toFixed(0)} MiB during the run.`,
  ].join('\n');
}
