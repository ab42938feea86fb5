/**
 * One seed of `npm run experiment`: the default experiment, changed as the command line says,
 * run in a fresh page of the built app with the same stage code and workers as the page; its
 * events printed as they come, its report, datasets, samples and checkpoint returned.
 */
import type { Browser } from 'playwright-core';
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { isOnlineMethod, type RlMethod } from '../../src/lib/domain/modes.ts';
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
  /** Compare these RL-CAI methods on one SL-CAI policy and one labelling (`--methods`). */
  methods?: RlMethod[];
}

/** The metrics printed of each online method's iteration. */
const shownMetrics: Record<string, string[]> = {
  ppo: [
    'objective/scores',
    'objective/kl',
    'objective/entropy',
    'policy/clipfrac_avg',
    'loss/value_avg',
  ],
  grpo: ['reward', 'reward_std', 'kl', 'clip_ratio/region_mean', 'completions/mean_length'],
  rloo: ['reward', 'reward_std', 'kl', 'completions/mean_length'],
};

/** One run of the experiment at `seed`, in a fresh page of `browser`. */
export async function runSeed(browser: Browser, url: string, seed: number, run: SeedRun) {
  const page = await browser.newPage();
  const problems = watchPage(page);
  let line = '';
  /** Every training stage's metrics, in order (a method's first and last go in the JSON). */
  const stageMetrics: Record<string, Record<string, number>[]> = {};
  await page.exposeFunction('caiExperimentEvent', (event: PipelineEvent) => {
    if (event.type === 'stage-start') console.log(`\n▶ ${stepById(event.step).label}`);
    else if (event.type === 'stage-end')
      console.log(`\n✓ ${stepById(event.step).label} (${event.seconds.toFixed(1)} s)`);
    else if (event.type === 'progress') {
      line = `  ${event.done}/${event.total} ${event.message}`;
      process.stdout.write(`\r${line.padEnd(70)}`);
    } else if (event.type === 'metrics') {
      const v = event.values;
      (stageMetrics[event.stage] ??= []).push({ step: event.step, ...v });
      const keys = shownMetrics[event.stage] ?? Object.keys(v);
      const parts = keys.filter((k) => k in v).map((k) => `${k} ${v[k]!.toPrecision(4)}`);
      const line = `  ${event.stage} step ${event.step}: ${parts.join(', ')}`;
      const epochEnd = Object.keys(v).some((k) => k.startsWith('eval/'));
      if (isOnlineMethod(event.stage) || epochEnd) console.log(line);
      else process.stdout.write(`\r${line}`.padEnd(120));
    } else if (event.type === 'warning')
      console.log(`  ⚠ ${event.stage} step ${event.step}: ${event.message}`);
  });
  // The code page.evaluate runs is this file's, compiled by tsx, which names inner functions
  // with a helper the page does not have: give the page one that does nothing.
  await page.addInitScript('globalThis.__name = (f) => f;');
  await page.goto(`${url}?backend=${encodeURIComponent(run.backend)}`);
  await page.waitForFunction(() => 'caiPlayground' in globalThis);
  const experiment = run.variant(
    await page.evaluate(() => {
      type Handle = { defaultExperiment: () => Experiment };
      return (globalThis as unknown as { caiPlayground: Handle }).caiPlayground.defaultExperiment();
    }),
    seed,
  );
  const { report, checkpoint, preferences, records, merged, samples, methods } =
    await page.evaluate(
      async (data) => {
        type Run = typeof import('../../src/lib/pipeline/run-experiment.ts').runExperiment;
        type Compare = typeof import('../../src/lib/pipeline/compare-methods.ts').compareMethods;
        type Options = { hubEndpoint?: string; download?: boolean };
        type Emit = (e: PipelineEvent) => void;
        type Handle = {
          runExperiment: (
            d: unknown,
            s: 'sl' | 'all',
            emit: Emit,
            signal: AbortSignal,
            options: Options,
          ) => ReturnType<Run>;
          compareMethods: (
            d: unknown,
            methods: RlMethod[],
            emit: Emit,
            signal: AbortSignal,
            options: Options,
          ) => ReturnType<Compare>;
        };
        const g = globalThis as unknown as {
          caiPlayground: Handle & {
            engine: { request(r: unknown): Promise<{ bytes: Uint8Array }> };
          };
          caiExperimentEvent: (e: PipelineEvent) => Promise<void>;
        };
        const emit: Emit = (e) => {
          if (e.type !== 'token' && e.type !== 'answer' && e.type !== 'preference')
            void g.caiExperimentEvent(e);
        };
        const signal = new AbortController().signal;
        const options = {
          ...(data.hubEndpoint && { hubEndpoint: data.hubEndpoint }),
          download: true,
        };
        type Result = Awaited<ReturnType<Run>>;
        /** Every held-out answer of each evaluated policy of a run, with its labels. */
        const samplesOf = ({ outputs }: Result) => {
          const evals = { base: outputs.evalBase, sl: outputs.evalSl, rl: outputs.evalRl };
          return Object.fromEntries(
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
        };
        let run: Result;
        let methods: Record<
          string,
          { report: Result['report']; samples: ReturnType<typeof samplesOf> }
        > | null = null;
        if (data.methods) {
          const compared = await g.caiPlayground.compareMethods(
            data.experiment,
            data.methods,
            emit,
            signal,
            options,
          );
          methods = Object.fromEntries(
            Object.entries(compared.methods).map(([m, r]) => [
              m,
              { report: r!.report, samples: samplesOf(r!) },
            ]),
          );
          // The top level is the first method's run (as `--method` would give it).
          run = compared.methods[data.methods[0]!]!;
        } else
          run = await g.caiPlayground.runExperiment(
            data.experiment,
            data.stages,
            emit,
            signal,
            options,
          );
        const { report, outputs, checkpoints } = run;
        if (!report) throw new Error('The run ended without a report.');
        const last = checkpoints.rl ?? checkpoints.sl ?? new Uint8Array();
        // The policy merged into its base, by the engine that holds the base.
        const mergedBytes = data.merged
          ? (await g.caiPlayground.engine.request({ type: 'mergedPolicy', checkpoint: last })).bytes
          : null;
        // Bytes travel back as base64.
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
          samples: samplesOf(run),
          methods,
        };
      },
      {
        experiment,
        stages: run.stages,
        hubEndpoint: run.hubEndpoint,
        merged: run.merged,
        methods: run.methods,
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
    methods,
    stageMetrics,
    problems,
  };
}
