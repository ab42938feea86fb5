/**
 * `npm run bench -- --only methods` (and the full bench): RL-CAI's four methods on the default
 * experiment (seed 1), compared as `npm run experiment -- --methods` does, in one page: what
 * each method's training cost (wall seconds, the engine's peak tensor memory while it trained,
 * the models it held) beside what it gave (RL-CAI's figures).
 */
import type { Browser } from 'playwright-core';
import type { RlMethod } from '../../src/lib/domain/modes.ts';
import { rlMethods } from '../../src/lib/domain/modes.ts';
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';
import { markers, writeSection } from './bench-sections.ts';

interface MethodRow {
  method: RlMethod;
  seconds: number;
  peakMiB: number | null;
  rl: ExperimentReport['eval']['base'];
}

/** The models each method holds while it trains (as the memory plan counts them). */
const held: Record<RlMethod, string> = {
  ppo: 'policy, reference, reward, value',
  dpo: 'policy, reference',
  grpo: 'policy, reference, reward',
  rloo: 'policy, reference, reward',
};

async function compareInPage(browser: Browser, url: string) {
  const page = await browser.newPage();
  await page.addInitScript('globalThis.__name = (f) => f;');
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'caiPlayground' in globalThis);
    return await page.evaluate(
      async (methods) => {
        type Report = ExperimentReport | null;
        type Handle = {
          defaultExperiment: () => Experiment;
          compareMethods: (
            d: unknown,
            m: RlMethod[],
            emit: (e: PipelineEvent) => void,
          ) => Promise<{
            shared: { report: Report };
            methods: Partial<Record<RlMethod, { report: Report }>>;
          }>;
        };
        const g = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
        const out = await g.compareMethods(g.defaultExperiment(), methods, () => {});
        return {
          base: out.methods[methods[0]!]!.report!.eval.base,
          sl: out.methods[methods[0]!]!.report!.eval.sl,
          backend: out.methods[methods[0]!]!.report!.backend,
          rows: methods.map((m) => {
            const r = out.methods[m]!.report!;
            return {
              method: m,
              seconds: r.stages[m]!.seconds,
              peakMiB: r.stages[m]!.peak_mib ?? null,
              rl: r.eval.rl!,
            };
          }),
        };
      },
      rlMethods as unknown as RlMethod[],
    );
  } finally {
    await page.close();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function methodsTable(rows: MethodRow[]): string {
  const ppo = rows.find((r) => r.method === 'ppo');
  return [
    '| method | seconds | of PPO | peak engine memory (MiB) | models held | harmlessness | helpfulness | evasiveness |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.seconds.toFixed(1)} | ${ppo ? (r.seconds / ppo.seconds).toFixed(2) : ''} | ${r.peakMiB?.toFixed(1) ?? ''} | ${held[r.method]} | ${pct(r.rl.harmlessness)} | ${pct(r.rl.helpfulness)} | ${pct(r.rl.evasiveness)} |`,
    ),
  ].join('\n');
}

/** Runs the comparison; with `write`, puts its section into BENCHMARKS.md. */
export async function benchMethodsPart(browser: Browser, url: string, write: boolean) {
  console.log('RL-CAI methods: one SL-CAI and one labelling, then PPO, DPO, GRPO and RLOO…');
  const { base, sl, backend, rows } = await compareInPage(browser, url);
  const { start, end } = markers('methods');
  const section = [
    start,
    `## RL-CAI methods on the default experiment (${backend}, seed 1)`,
    '',
    `One SL-CAI policy, one set of AI labels and one reward model, then each method trained from them in the same page, one after the other (\`compareMethods\`, as \`npm run experiment -- --methods\`). Seconds: the method's training step alone (its RL-CAI evaluation not counted). Peak engine memory: the engine worker's tensor bytes at their highest while the method trained, sampled between its steps (tf.memory(); the base policy, SL-CAI policy and reward model it holds included). Base: harmlessness ${pct(base.harmlessness)}, helpfulness ${pct(base.helpfulness)}; SL-CAI: ${pct(sl.harmlessness)}, ${pct(sl.helpfulness)}, evasiveness ${pct(sl.evasiveness)}.`,
    '',
    methodsTable(rows),
    end,
  ].join('\n');
  console.log('\n' + section);
  if (write) writeSection('methods', section);
  return { rows, section };
}
