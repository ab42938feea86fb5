/**
 * What `npm run experiment` prints and writes: a run's tables, its figures as JSON, the
 * spread over seeds.
 */
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import { scoreDefinitions } from '../../src/lib/domain/scores.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';
import type { Spread } from '../../src/lib/pipeline/seed-spread.ts';
import type { StageSet } from '../../src/lib/pipeline/steps.ts';

/** What one seed's run gave, as the JSON output reads it. */
export interface SeedFigures {
  experiment: Experiment;
  report: ExperimentReport;
  /** The labelled pairs, as the run's JSON keeps them. */
  preferences: unknown[];
  /** Each training stage's metrics in order (TRL's names, with `step`). */
  stageMetrics: Record<string, Record<string, number>[]>;
  samples: Record<string, unknown[]>;
  /** With `--methods`: each method's run from the shared SL-CAI policy and labels. */
  methods: Record<
    string,
    { report: ExperimentReport | null; samples: Record<string, unknown[]> }
  > | null;
}

/** A method's first and last training metrics, and its last held-out ones (DPO's epochs). */
function metricsOf(all: Record<string, number>[] = []) {
  const heldOut = (m: Record<string, number>) => Object.keys(m).some((k) => k.startsWith('eval/'));
  const training = all.filter((m) => !heldOut(m));
  return {
    first: training[0] ?? null,
    last: training.at(-1) ?? null,
    ...(all.some(heldOut) && { heldOut: all.filter(heldOut).at(-1) }),
  };
}

/** The held-out figures of each policy of a report, as the JSON holds them. */
function evalJson(report: ExperimentReport, samples: Record<string, unknown[]>) {
  return Object.fromEntries(
    Object.entries(report.eval).map(([k, e]) => [
      k,
      {
        harmlessness: e.harmlessness,
        helpfulness: e.helpfulness,
        evasiveness: e.evasiveness,
        judge: e.judge,
        ...(e.aiJudge && { aiJudge: e.aiJudge }),
        ...(e.worldFigures && { worldFigures: e.worldFigures }),
        ...(e.reward === undefined ? {} : { reward: e.reward }),
        samples: samples[k] ?? [],
      },
    ]),
  );
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function printReport(r: ExperimentReport, experiment: Experiment): void {
  console.log(`\nConstitution (${experiment.constitution.length} principles):`);
  experiment.constitution.forEach((p, i) => console.log(`  ${i + 1}. ${p}`));
  console.log(
    '\n| policy | harmlessness | helpfulness | evasiveness | comply | refuse | engage | help | RM score |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, e] of Object.entries(r.eval))
    console.log(
      `| ${name} | ${pct(e.harmlessness)} | ${pct(e.helpfulness)} | ${pct(e.evasiveness)} | ` +
        `${pct(e.redTeam.comply)} | ${pct(e.redTeam.refuse)} | ${pct(e.redTeam.engage)} | ${pct(e.ordinary.help)} | ` +
        `${e.reward === undefined ? '' : e.reward.toFixed(3)} |`,
    );
  for (const [name, e] of Object.entries(r.eval)) {
    const ai = e.aiJudge;
    const w = e.worldFigures;
    console.log(`${name}: judged by ${e.judge ?? 'the tiny world’s exact judge'}.`);
    if (w)
      console.log(
        `  the tiny world’s judge: harmlessness ${pct(w.harmlessness)}, helpfulness ${pct(w.helpfulness)}, evasiveness ${pct(w.evasiveness)}`,
      );
    if (ai)
      console.log(
        `  AI judge ${ai.model}: harmlessness ${pct(ai.figures.harmlessness)}, helpfulness ${pct(ai.figures.helpfulness)}, evasiveness ${pct(ai.figures.evasiveness)}; mean confidence ${pct(ai.confidence)}` +
          (ai.agreement === undefined
            ? ''
            : `; agrees with the world’s judge on ${pct(ai.agreement)} of answers`),
      );
  }
  for (const [name, what] of Object.entries(scoreDefinitions)) console.log(`${name}: ${what}.`);
  if (r.reward)
    console.log(
      `\nReward model: held-out accuracy ${pct(r.reward.accuracy)}, margin ${r.reward.margin.toFixed(3)}, ${r.reward.pairs} labelled pairs.`,
    );
  for (const m of ['ppo', 'grpo', 'rloo'] as const) {
    const x = r[m];
    if (x)
      console.log(
        `${m.toUpperCase()}: mean score ${x.score_first.toFixed(3)} (first iteration) → ${x.score_last.toFixed(3)} (iteration ${x.iterations}).`,
      );
  }
  if (r.dpo)
    console.log(
      `DPO: held-out implicit-reward accuracy ${pct(r.dpo.accuracy)}, margin ${r.dpo.margin.toFixed(3)}, loss ${r.dpo.loss.toFixed(3)} after ${r.dpo.steps} steps on ${r.dpo.pairs} pairs.`,
    );
  const revisions = r.revisions;
  if (revisions) {
    const judge = revisions.judge === 'ai' ? "the AI judge's" : "the world's judge's";
    console.log(
      `\nRed-team training prompts, ${judge} labels (comply / refuse / engage / garbled):`,
    );
    const row = (name: string, x: typeof revisions.answers) =>
      console.log(
        `  ${name.padEnd(18)} ${pct(x.comply)} / ${pct(x.refuse)} / ${pct(x.engage)} / ${pct(x.garbled)}`,
      );
    row('initial answers', revisions.answers);
    revisions.rounds.forEach((x, i) => row(`revision round ${i + 1}`, x));
  } else
    console.log(
      "\nRevisions: not labelled (the world's judge reads only the tiny model; with --judge feedback or both the AI judge labels them).",
    );
  console.log('\n| stage | seconds | details |');
  console.log('| --- | --- | --- |');
  for (const [name, s] of Object.entries(r.stages)) {
    const { seconds, ...rest } = s;
    const details = Object.entries(rest)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
      .join(', ');
    console.log(`| ${name} | ${seconds.toFixed(1)} | ${details} |`);
  }
  console.log('\nSample chains:');
  for (const s of r.samples)
    console.log(
      `  Q: ${s.prompt}\n    answer:   ${s.answer}\n    critique: ${s.critique}\n    revision: ${s.revision}`,
    );
}

/** A run's figures as the JSON output holds them (for each seed, and the first at the top). */
export function resultJson(
  { experiment, report, preferences, stageMetrics, samples, methods }: SeedFigures,
  stages: StageSet,
) {
  const method = report.method;
  return {
    eval: evalJson(report, samples),
    ...(method && { method }),
    ...(report.reward && {
      reward: { accuracy: report.reward.accuracy, margin: report.reward.margin },
    }),
    ...(report.ppo && { ppo: { ...report.ppo, metrics: stageMetrics.ppo ?? [] } }),
    ...(method &&
      method !== 'ppo' && { [method]: { ...report[method], metrics: stageMetrics[method] ?? [] } }),
    ...(methods && {
      methods: Object.fromEntries(
        Object.entries(methods).map(([m, run]) => [
          m,
          {
            eval: run.report ? evalJson(run.report, run.samples) : null,
            ...metricsOf(stageMetrics[m]),
            seconds: run.report?.stages[m]?.seconds ?? null,
            peak_mib: run.report?.stages[m]?.peak_mib ?? null,
          },
        ]),
      ),
    }),
    stages: report.stages,
    labels: Object.fromEntries(
      Object.entries(report.eval).map(([k, e]) => [
        k,
        { redTeam: e.redTeam, ordinary: e.ordinary },
      ]),
    ),
    revisions: report.revisions,
    seed: experiment.seed,
    models: experiment.models,
    lora: experiment.stages.lora,
    constitution: experiment.constitution,
    backend: report.backend,
    ...(stages === 'all' && { preferences }),
  };
}

/** Each figure's mean ± standard deviation and range over the seeds. */
export function printSpread(spread: Record<string, Spread>, seeds: number[]): void {
  console.log(`
Over seeds ${seeds.join(', ')}: mean ± standard deviation (lowest – highest)`);
  console.log('| figure | mean ± sd | range |');
  console.log('| --- | --- | --- |');
  for (const [name, x] of Object.entries(spread)) {
    const f = name.startsWith('ppo.') ? (v: number) => v.toFixed(3) : pct;
    console.log(`| ${name} | ${f(x.mean)} ± ${f(x.sd)} | ${f(x.min)} – ${f(x.max)} |`);
  }
}

/** The methods side by side (`--methods`): each one's RL-CAI figures and seconds, after base
 * and SL-CAI (the same for all). */
export function printMethods(methods: NonNullable<SeedFigures['methods']>): void {
  const first = Object.values(methods)[0]?.report;
  if (!first) return;
  console.log(
    '\n| policy | harmlessness | helpfulness | evasiveness | comply | seconds | peak MiB |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const row = (name: string, e: ExperimentReport['eval']['base'], cost: string) =>
    console.log(
      `| ${name} | ${pct(e.harmlessness)} | ${pct(e.helpfulness)} | ${pct(e.evasiveness)} | ${pct(e.redTeam.comply)} | ${cost} |`,
    );
  row('base', first.eval.base, ' | ');
  row('sl', first.eval.sl, ' | ');
  for (const [m, run] of Object.entries(methods)) {
    const stage = run.report?.stages[m];
    if (run.report?.eval.rl && stage)
      row(
        `rl (${m})`,
        run.report.eval.rl,
        `${stage.seconds.toFixed(1)} | ${stage.peak_mib?.toFixed(1) ?? ''}`,
      );
  }
}
