/**
 * One seed of `npm run experiment`: the default experiment, changed as the command line says,
 * run in a fresh page of the built app with the same stage code and workers as the page; its
 * events printed as they come, its report, datasets, samples and checkpoint returned.
 */
import type { Browser } from 'playwright-core';
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { stepById, type StageSet } from '../../src/lib/pipeline/steps.ts';
import { watchPage } from './browser.ts';

/** How every seed runs. */
export interface SeedRun {
  backend: string;
  stages: StageSet;
  /** The Hub the page fetches from (the stand-in Hub serving a folder, or one given). */
  hubEndpoint?: string;
  /** Also return the final policy merged into its base. */
  merged: boolean;
  /** The experiment at a seed, from the page's default one. */
  variant: (experiment: Experiment, seed: number) => Experiment;
}

/** One run of the experiment at `seed`, in a fresh page of `browser`. */
export async function runSeed(browser: Browser, url: string, seed: number, run: SeedRun) {
  const page = await browser.newPage();
  const problems = watchPage(page);
  let line = '';
  const ppoMetrics: Record<string, number>[] = [];
  await page.exposeFunction('caiExperimentEvent', (event: PipelineEvent) => {
    if (event.type === 'stage-start') console.log(`\n▶ ${stepById(event.step).label}`);
    else if (event.type === 'stage-end')
      console.log(`\n✓ ${stepById(event.step).label} (${event.seconds.toFixed(1)} s)`);
    else if (event.type === 'progress') {
      line = `  ${event.done}/${event.total} ${event.message}`;
      process.stdout.write(`\r${line.padEnd(70)}`);
    } else if (event.type === 'metrics') {
      const v = event.values;
      if (event.stage === 'ppo') ppoMetrics.push({ step: event.step, ...v });
      const keys =
        event.stage === 'ppo'
          ? [
              'objective/scores',
              'objective/kl',
              'objective/entropy',
              'policy/clipfrac_avg',
              'loss/value_avg',
            ]
          : Object.keys(v);
      const parts = keys.filter((k) => k in v).map((k) => `${k} ${v[k]!.toPrecision(4)}`);
      const line = `  ${event.stage} step ${event.step}: ${parts.join(', ')}`;
      if (event.stage === 'ppo' || 'eval/loss' in v || 'eval/accuracy' in v) console.log(line);
      else process.stdout.write(`\r${line}`.padEnd(120));
    } else if (event.type === 'warning')
      console.log(`  ⚠ ${event.stage} step ${event.step}: ${event.message}`);
  });
  await page.goto(`${url}?backend=${encodeURIComponent(run.backend)}`);
  await page.waitForFunction(() => 'caiPlayground' in globalThis);
  const experiment = run.variant(
    await page.evaluate(() => {
      type Handle = { defaultExperiment: () => Experiment };
      return (globalThis as unknown as { caiPlayground: Handle }).caiPlayground.defaultExperiment();
    }),
    seed,
  );
  const { report, checkpoint, preferences, records, merged, samples } = await page.evaluate(
    async (data) => {
      type Run = typeof import('../../src/lib/pipeline/run-experiment.ts').runExperiment;
      type Handle = {
        runExperiment: (
          d: unknown,
          s: 'sl' | 'all',
          emit: (e: PipelineEvent) => void,
          signal: AbortSignal,
          options: { hubEndpoint?: string; download?: boolean },
        ) => ReturnType<Run>;
      };
      const g = globalThis as unknown as {
        caiPlayground: Handle & {
          engine: { request(r: unknown): Promise<{ bytes: Uint8Array }> };
        };
        caiExperimentEvent: (e: PipelineEvent) => Promise<void>;
      };
      const { report, outputs, checkpoints } = await g.caiPlayground.runExperiment(
        data.experiment,
        data.stages,
        (e) => {
          if (e.type !== 'token' && e.type !== 'answer' && e.type !== 'preference')
            void g.caiExperimentEvent(e);
        },
        new AbortController().signal,
        { ...(data.hubEndpoint && { hubEndpoint: data.hubEndpoint }), download: true },
      );
      if (!report) throw new Error('The run ended without a report.');
      const last = checkpoints.rl ?? checkpoints.sl ?? new Uint8Array();
      // The policy merged into its base, by the engine that holds the base.
      const mergedBytes = data.merged
        ? (await g.caiPlayground.engine.request({ type: 'mergedPolicy', checkpoint: last })).bytes
        : null;
      // Bytes travel back as base64 (no named helper here: the page runs this code as text).
      const [lastText, mergedText] = [last, mergedBytes].map((bytes) => {
        if (!bytes) return null;
        let binary = '';
        for (const byte of bytes) binary += String.fromCharCode(byte);
        return btoa(binary);
      });
      const preferences = (outputs.preferences ?? []).map(
        ({ prompt, chosen, rejected, label, principle }) => ({
          prompt,
          chosen,
          rejected,
          label,
          principle,
        }),
      );
      // Every held-out answer of each evaluated policy, with its labels.
      const evals = { base: outputs.evalBase, sl: outputs.evalSl, rl: outputs.evalRl };
      const samples = Object.fromEntries(
        Object.entries(evals)
          .filter(([, e]) => e)
          .map(([policy, e]) => [
            policy,
            e!.samples.map((x) => ({
              prompt: x.prompt,
              kind: x.kind,
              answer: x.text,
              label: x.label,
              ...(x.ai && { aiLabel: x.ai.label, aiConfidence: x.ai.confidence }),
              ...(x.world && x.ai && { worldLabel: x.world }),
            })),
          ]),
      );
      const records = {
        chains: outputs.chains ?? [],
        ordinary: outputs.answers?.ordinary ?? [],
        preferences: outputs.preferences ?? [],
      };
      return {
        report,
        checkpoint: lastText!,
        preferences,
        records,
        merged: mergedText,
        samples,
      };
    },
    {
      experiment,
      stages: run.stages,
      hubEndpoint: run.hubEndpoint,
      merged: run.merged,
    },
  );
  await page.close();
  return {
    experiment,
    report,
    checkpoint,
    preferences,
    records,
    merged,
    samples,
    ppoMetrics,
    problems,
  };
}
