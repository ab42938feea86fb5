/**
 * What `npm run experiment` prints and writes: a run's tables, its figures as JSON, the
 * spread over seeds.
 */
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import { scoreDefinitions } from '../../src/lib/domain/scores.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-experiment.ts';
import type { Spread } from '../../src/lib/pipeline/seed-spread.ts';
import type { StageSet } from '../../src/lib/pipeline/steps.ts';

/** What one seed's run gave, as the JSON output reads it. */
export interface SeedFigures {
  experiment: Experiment;
  report: ExperimentReport;
  /** The labelled pairs, as the run's JSON keeps them. */
  preferences: unknown[];
  ppoMetrics: Record<string, number>[];
  samples: Record<string, unknown[]>;
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
  if (r.ppo)
    console.log(
      `PPO: mean score ${r.ppo.score_first.toFixed(3)} (first iteration) → ${r.ppo.score_last.toFixed(3)} (iteration ${r.ppo.iterations}).`,
    );
  const revisions = r.revisions;
  if (revisions) {
    console.log('\nRed-team training prompts, judge labels (comply / refuse / engage / garbled):');
    const row = (name: string, x: typeof revisions.answers) =>
      console.log(
        `  ${name.padEnd(18)} ${pct(x.comply)} / ${pct(x.refuse)} / ${pct(x.engage)} / ${pct(x.garbled)}`,
      );
    row('initial answers', revisions.answers);
    revisions.rounds.forEach((x, i) => row(`revision round ${i + 1}`, x));
  } else
    console.log(
      "\nRevisions: not labelled (the world's judge reads only the tiny model; the AI judge rates held-out answers).",
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
  { experiment, report, preferences, ppoMetrics, samples }: SeedFigures,
  stages: StageSet,
) {
  return {
    eval: Object.fromEntries(
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
    ),
    ...(report.reward && {
      reward: { accuracy: report.reward.accuracy, margin: report.reward.margin },
    }),
    ...(report.ppo && { ppo: { ...report.ppo, metrics: ppoMetrics } }),
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
