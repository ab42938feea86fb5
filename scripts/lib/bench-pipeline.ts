import type { Browser } from 'playwright-core';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { stepById, type StepId } from '../../src/lib/pipeline/steps.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import { writeFileSync } from 'node:fs';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import {
  stepWork,
  timingReference,
  type TimingReference,
} from '../../src/lib/runs/time-estimate.ts';

/** The page path's figures: the same run started with the page's own Run button. */
export interface PagePipelineBench {
  stages: [StepId, number][];
  /** From the click to the run's end. */
  totalSeconds: number;
  /** The main thread's long tasks (over 50 ms, as devtools count them) during the run, ms. */
  longTasks: number[];
  /** The same, with the step that was running when each was reported. */
  longTaskSteps: { duration: number; step: string }[];
  /** Events the run stored (what went to IndexedDB). */
  events: number;
}

export interface PipelineBench {
  /** Wall seconds of each step (by id), in order. */
  stages: [StepId, number][];
  /** From the first stage's start to the last stage's end (model loading included). */
  totalSeconds: number;
  backend: string;
  eval: ExperimentReport['eval'];
  reward: ExperimentReport['reward'];
  ppo: ExperimentReport['ppo'];
  /** Engine tensors after each PPO iteration, read from the worker (should stay flat). */
  ppoTensors: number[];
  /** The page's quick measurement for its time estimate: one training step, median ms. */
  stepMs: number | null;
}

/** Runs the whole default experiment (SL-CAI and RL-CAI) in a fresh page and times it. */
export async function benchPipeline(browser: Browser, url: string): Promise<PipelineBench> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'caiPlayground' in globalThis);
    return await page.evaluate(async () => {
      type Handle = {
        measured: Promise<void>;
        status: { stepMs: number | null };
        defaultExperiment: () => Experiment;
        engine: import('../../src/lib/workers/clients.ts').EngineClient;
        runExperiment: (
          d: unknown,
          s: 'sl' | 'all',
          emit: (e: PipelineEvent) => void,
        ) => Promise<{ report: ExperimentReport }>;
      };
      const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
      await g.measured;
      const stepMs = g.status.stepMs;
      const stages: [StepId, number][] = [];
      const ppoTensors: number[] = [];
      const start = performance.now();
      const pending: Promise<void>[] = [];
      const { report } = await g.runExperiment(g.defaultExperiment(), 'all', (e) => {
        if (e.type === 'stage-end') stages.push([e.step, e.seconds]);
        if (e.type === 'samples')
          pending.push(
            g.engine.request({ type: 'memory' }).then((m) => void ppoTensors.push(m.numTensors)),
          );
      });
      await Promise.all(pending);
      const totalSeconds = (performance.now() - start) / 1000;
      return {
        stages,
        totalSeconds,
        backend: report.backend,
        eval: report.eval,
        reward: report.reward,
        ppo: report.ppo,
        ppoTensors,
        stepMs,
      };
    });
  } finally {
    await page.close();
  }
}

/** The figures the page's time estimate scales from (src/lib/runs/timing-reference.json). */
export function timingReferenceOf(
  p: PipelineBench,
  machine: string,
  work: Record<StepId, number>,
  shape: { batch: number; seq: number },
): TimingReference {
  if (p.stepMs === null) throw new Error('The page did not measure its training step.');
  const seconds = Object.fromEntries(p.stages);
  return {
    date: new Date().toISOString().slice(0, 10),
    machine,
    backend: p.backend,
    trainStep: { ...shape, ms: Number(p.stepMs.toFixed(2)) },
    steps: Object.fromEntries(
      Object.entries(work).map(([id, w]) => [
        id,
        { work: w, seconds: Number((seconds[id] ?? NaN).toFixed(1)) },
      ]),
    ) as TimingReference['steps'],
  };
}

/** Watches the main thread's long tasks from the page's first script on. */
function watchLongTasks(): void {
  const seen: { start: number; duration: number; step: string }[] = [];
  Object.assign(globalThis, { benchLongTasks: seen });
  type Steps = { run?: { view: { steps: { id: string; state: string }[] } } };
  new PerformanceObserver((list) => {
    const g = (globalThis as unknown as { caiPlayground?: Steps }).caiPlayground;
    const step = g?.run?.view.steps.find((s) => s.state === 'running')?.id ?? 'none';
    for (const t of list.getEntries())
      seen.push({ start: t.startTime, duration: t.duration, step });
  }).observe({ type: 'longtask', buffered: true });
}

/**
 * Runs the whole default experiment as a user does, in a fresh page: waits for the models,
 * clicks "Run the whole recipe" and waits for the run to end; the page folds, draws and
 * stores every event as it comes. Counts the main thread's long tasks during the run.
 */
export async function benchPagePipeline(browser: Browser, url: string): Promise<PagePipelineBench> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    await page.addInitScript(watchLongTasks);
    await page.goto(url);
    await page.getByTestId('backend-name').waitFor({ timeout: 300_000 });
    await page.evaluate(async () => {
      const g = globalThis as unknown as {
        caiPlayground: { restored: Promise<unknown>; measured: Promise<unknown> };
      };
      await Promise.all([g.caiPlayground.restored, g.caiPlayground.measured]);
    });
    const button = page
      .getByTestId('run-panel')
      .getByRole('button', { name: 'Run the whole recipe', exact: true });
    await button.waitFor();
    const start = await page.evaluate(() => performance.now());
    await button.click();
    type Handle = {
      run: {
        running: boolean;
        error: string | null;
        meta: { status: string } | null;
        view: { steps: { id: StepId; seconds: number | null }[] };
        exportFile: () => { events: unknown[] } | null;
      };
    };
    await page.waitForFunction(
      () => {
        const { run } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
        return !run.running && run.meta?.status !== 'running';
      },
      undefined,
      { timeout: 0, polling: 1000 },
    );
    return await page.evaluate((t0) => {
      const end = performance.now();
      const { run } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
      if (run.meta?.status !== 'finished')
        throw new Error(`The page's run ended ${run.meta?.status}: ${run.error}`);
      type Task = { start: number; duration: number; step: string };
      const all = (globalThis as unknown as { benchLongTasks: Task[] }).benchLongTasks;
      const during = all.filter((t) => t.start >= t0 && t.start <= end);
      return {
        stages: run.view.steps.map((s) => [s.id, s.seconds ?? NaN] as [StepId, number]),
        totalSeconds: (end - t0) / 1000,
        longTasks: during.map((t) => t.duration),
        longTaskSteps: during.map(({ duration, step }) => ({ duration, step })),
        events: run.exportFile()?.events.length ?? 0,
      };
    }, start);
  } finally {
    await context.close();
  }
}

/** "13, longest 294 ms" of a list of long tasks. */
function longTaskText(tasks: number[]): string {
  const over = (ms: number) => tasks.filter((d) => d > ms).length;
  return tasks.length
    ? `${tasks.length} over 50 ms (${over(100)} over 100 ms), longest ${Math.max(...tasks).toFixed(0)} ms`
    : 'none over 50 ms';
}

export function pipelineTable(p: PipelineBench, page: PagePipelineBench | null): string {
  const pageSeconds = (id: StepId) => page?.stages.find(([s]) => s === id)?.[1];
  const ratio = (a: number | undefined, b: number) =>
    a === undefined || !Number.isFinite(a) ? '' : `${(a / b).toFixed(2)}x`;
  const rows = p.stages.map(([id, s]) =>
    page
      ? `| ${stepById(id).label} | ${s.toFixed(1)} | ${pageSeconds(id)?.toFixed(1) ?? ''} | ${ratio(pageSeconds(id), s)} |`
      : `| ${stepById(id).label} | ${s.toFixed(1)} |`,
  );
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const evals = Object.entries(p.eval).map(
    ([name, e]) =>
      `| ${name} | ${pct(e.harmlessness)} | ${pct(e.helpfulness)} | ${pct(e.evasiveness)} | ${pct(e.redTeam.comply)} | ${e.reward?.toFixed(3) ?? ''} |`,
  );
  return [
    '| policy | harmlessness | helpfulness | evasiveness | comply (red-team) | mean RM score |',
    '| --- | --- | --- | --- | --- | --- |',
    ...evals,
    '',
    `Reward model held-out accuracy ${p.reward ? pct(p.reward.accuracy) : 'n/a'}, margin ${p.reward?.margin.toFixed(3) ?? 'n/a'}; ` +
      `PPO mean score ${p.ppo?.score_first.toFixed(3) ?? 'n/a'} → ${p.ppo?.score_last.toFixed(3) ?? 'n/a'} over ${p.ppo?.iterations ?? 0} iterations.`,
    '',
    ...(page
      ? [
          '| stage | headless seconds | page seconds (Run button) | page / headless |',
          '| --- | --- | --- | --- |',
          ...rows,
          `| **whole pipeline** (models loaded, all stages) | **${p.totalSeconds.toFixed(1)}** | **${page.totalSeconds.toFixed(1)}** | **${ratio(page.totalSeconds, p.totalSeconds)}** |`,
          '',
          `Page path: the page folded, drew and stored ${page.events} events; main-thread long tasks during the run: ${longTaskText(page.longTasks)}.`,
        ]
      : [
          '| stage | seconds |',
          '| --- | --- |',
          ...rows,
          `| **whole pipeline** (models loaded, all stages) | **${p.totalSeconds.toFixed(1)}** |`,
        ]),
  ].join('\n');
}

/**
 * `--pipeline`: the whole default pipeline headless, then through the page's Run button; with
 * `write`, the page's timing reference (src/lib/runs/timing-reference.json) from the first.
 */
export async function pipelinePart(browser: Browser, url: string, machine: string, write: boolean) {
  console.log('The whole default pipeline (SL-CAI and RL-CAI), headless…');
  const pipeline = await benchPipeline(browser, url);
  console.log(
    `…${pipeline.totalSeconds.toFixed(1)} s (${pipeline.stages.map(([id, t]) => `${id} ${t.toFixed(1)}`).join(', ')}); now through the page's Run button…`,
  );
  const pagePipeline = await benchPagePipeline(browser, url);
  console.log(
    `…${pagePipeline.totalSeconds.toFixed(1)} s (${pagePipeline.stages.map(([id, t]) => `${id} ${t.toFixed(1)}`).join(', ')}); long tasks ${pagePipeline.longTaskSteps.map((t) => `${t.duration.toFixed(0)} (${t.step})`).join(', ')}.`,
  );
  if (write) {
    const reference = timingReferenceOf(
      pipeline,
      machine,
      stepWork(defaultExperiment()),
      timingReference.trainStep,
    );
    writeFileSync('src/lib/runs/timing-reference.json', JSON.stringify(reference, null, 2) + '\n');
  }
  return { pipeline, pagePipeline };
}
