import type { Browser } from 'playwright-core';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { stepById, type StepId } from '../../src/lib/pipeline/steps.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-experiment.ts';
import type { Experiment } from '../../src/lib/state/experiment.ts';

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
}

/** Runs the whole default experiment (SL-CAI and RL-CAI) in a fresh page and times it. */
export async function benchPipeline(browser: Browser, url: string): Promise<PipelineBench> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'caiPlayground' in globalThis);
    return await page.evaluate(async () => {
      type Handle = {
        defaultExperiment: () => Experiment;
        engine: import('../../src/lib/workers/clients.ts').EngineClient;
        runExperiment: (
          d: unknown,
          s: 'sl' | 'all',
          emit: (e: PipelineEvent) => void,
        ) => Promise<{ report: ExperimentReport }>;
      };
      const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
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
      };
    });
  } finally {
    await page.close();
  }
}

export function pipelineTable(p: PipelineBench): string {
  const rows = p.stages.map(([id, s]) => `| ${stepById(id).label} | ${s.toFixed(1)} |`);
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
    '| stage | seconds |',
    '| --- | --- |',
    ...rows,
    `| **whole pipeline** (models loaded, all stages) | **${p.totalSeconds.toFixed(1)}** |`,
  ].join('\n');
}
