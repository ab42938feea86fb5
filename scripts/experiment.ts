/**
 * `npm run experiment`: runs the CAI pipeline headless in Chromium, with the same stage code
 * and workers as the app, on the default experiment (or a variant), and prints the metrics.
 *
 * Options: --stages sl|all      SL-CAI (generate, critique/revise, SFT, evaluate), or all of CAI
 *                               (then labels, reward model, PPO, evaluate)
 *          --ppo-iterations N   PPO iterations (default: the experiment's)
 *          --seed N             the experiment's seed (default 1)
 *          --seeds 1,2,3        run the experiment once per seed and report each figure's mean,
 *                               standard deviation and range (JSON: each run under "seeds",
 *                               the first at the top level, the summary under "spread")
 *          --constitution FILE  principles, one per line (or a JSON list of strings)
 *          --mode plain|strict|cot   critique mode      --rounds N   critique rounds (1-4)
 *          --prompts N          use only the first N red-team and N/2 ordinary training prompts
 *          --held-out N         evaluate on at most N held-out prompts of each kind
 *          --backend auto|webgpu|wasm|cpu
 *          --json FILE          also write the results as JSON (per policy eval.<policy>.samples:
 *                               every held-out {prompt, kind, answer, label}, with aiLabel and
 *                               aiConfidence when the AI judge ran; the whole experiment and
 *                               the run's datasets: what `npm run export-trl` reads)
 *          --checkpoint FILE    write the final policy's weights (SL-CAI or RL-CAI; safetensors)
 *          --policy F|ID        the policy: a model folder on disk (served to the page as a Hub
 *                               model, as a foreign checkpoint would be) or a Hub id owner/name
 *          --feedback F|ID      the feedback model, the same way (a folder needs onnx/model.onnx)
 *          --lora-rank N        train LoRA adapters of rank N on a frozen base (0 = full fine-tune)
 *          --judge world|feedback|both   who labels the held-out answers
 *          --hub-endpoint URL   where Hub ids are fetched from (default https://huggingface.co)
 *          --set PATH=VALUE     a stage setting by its field path (repeatable), e.g.
 *                               --set ppo.learningRate=3e-5 --set critique.rounds=1
 *          --adapter-out DIR    write the final policy's adapter as a PEFT folder
 *          --merged-out FILE    write the final policy merged into its base (safetensors)
 *          --datasets DIR       write the run's datasets in TRL's formats (sft, preferences,
 *                               critiques: JSONL)
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PipelineEvent } from '../src/lib/pipeline/events.ts';
import { stepById } from '../src/lib/pipeline/steps.ts';
import { seedSpread, type Spread } from '../src/lib/pipeline/seed-spread.ts';
import type { ExperimentReport } from '../src/lib/pipeline/run-experiment.ts';
import type { Experiment } from '../src/lib/experiment/experiment.ts';
import { scoreDefinitions } from '../src/lib/domain/scores.ts';
import { isHubId } from '../src/lib/domain/model-id.ts';
import { fieldsOf, setAt } from '../src/lib/config/fields.ts';
import { stageFields } from '../src/lib/experiment/stage-configs.ts';
import { experimentOrThrow } from '../src/lib/experiment/experiment-check.ts';
import { peftFilesOfCheckpoint } from '../src/lib/model/peft.ts';
import {
  critiquesJsonl,
  preferencesJsonl,
  sftJsonl,
  type DatasetRun,
} from '../src/lib/runs/exports.ts';
import type { Browser } from 'playwright-core';
import { launchChromium, watchPage } from './lib/browser.ts';
import { startStandInHub, type StandInHub } from './lib/stand-in-hub.ts';
import { buildApp, serveVite } from './lib/serve.ts';

const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: 'sl' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
    constitution: { type: 'string' },
    mode: { type: 'string' },
    rounds: { type: 'string' },
    prompts: { type: 'string' },
    'held-out': { type: 'string' },
    'ppo-iterations': { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    json: { type: 'string' },
    checkpoint: { type: 'string' },
    policy: { type: 'string' },
    feedback: { type: 'string' },
    'lora-rank': { type: 'string' },
    judge: { type: 'string' },
    set: { type: 'string', multiple: true },
    'hub-endpoint': { type: 'string' },
    'adapter-out': { type: 'string' },
    'merged-out': { type: 'string' },
    datasets: { type: 'string' },
  },
});

if (args.stages !== 'sl' && args.stages !== 'all')
  throw new Error(`--stages ${args.stages}: use "sl" (SL-CAI) or "all" (SL-CAI and RL-CAI).`);
const stages: 'sl' | 'all' = args.stages;

/** The seeds to run: --seeds 1,2,3, or the one --seed (default 1). */
function seedList(): number[] {
  if (args.seed !== undefined && args.seeds !== undefined)
    throw new Error('--seed and --seeds: give one of them.');
  const text = args.seeds ?? args.seed ?? '1';
  const list = text.split(',').map((t) => t.trim());
  const bad = list.filter((t) => !/^\d+$/.test(t));
  if (bad.length || !list.length)
    throw new Error(`--seeds ${text}: seeds are whole numbers, separated by commas (1,2,3).`);
  if (new Set(list).size !== list.length) throw new Error(`--seeds ${text}: a seed is repeated.`);
  return list.map(Number);
}
const seeds = seedList();
for (const flag of ['checkpoint', 'adapter-out', 'merged-out', 'datasets'] as const)
  if (args[flag] && seeds.length > 1)
    throw new Error(
      `--${flag} writes one run's files: give it with one seed, not ${seeds.length}.`,
    );

/** Principles from a file: a JSON list of strings, or one per line (# starts a comment). */
function readConstitution(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (text.trim().startsWith('[')) {
    const list: unknown = JSON.parse(text);
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string'))
      throw new Error(`${file}: a JSON constitution must be a list of strings.`);
    return list;
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * `--set ppo.learningRate=3e-5`: one stage setting by its path in the field tables, its value
 * read as the field's kind (a number, true/false, a choice, a band "0.4,0.6"); the whole
 * experiment is checked as any other before it runs, so a value out of range is named.
 */
function setStage(e: Experiment, assignment: string): void {
  const at = assignment.indexOf('=');
  const path = assignment.slice(0, at);
  const text = assignment.slice(at + 1);
  const field = fieldsOf(stageFields).find((f) => f.path === path)?.field;
  if (at < 0 || !field)
    throw new Error(
      `--set ${assignment}: give a stage setting as path=value, the path one of ${fieldsOf(
        stageFields,
      )
        .map((f) => f.path)
        .join(', ')}.`,
    );
  const value =
    field.kind === 'number'
      ? Number(text)
      : field.kind === 'boolean'
        ? text === 'true'
          ? true
          : text === 'false'
            ? false
            : text
        : field.kind === 'band'
          ? text.split(',').map(Number)
          : text;
  setAt(e.stages, path, value);
  experimentOrThrow(e, `--set ${assignment}`);
}

function customise(experiment: Experiment, seed: number): Experiment {
  const e = structuredClone(experiment);
  e.seed = seed;
  if (args.constitution) e.constitution = readConstitution(args.constitution);
  if (args.mode) e.stages.critique.mode = args.mode as Experiment['stages']['critique']['mode'];
  if (args.rounds) e.stages.critique.rounds = Number(args.rounds);
  if (args.prompts) {
    const n = Number(args.prompts);
    e.prompts.redTeam = e.prompts.redTeam.slice(0, n);
    e.prompts.ordinary = e.prompts.ordinary.slice(0, Math.ceil(n / 2));
  }
  if (args['held-out']) e.stages.evaluate.maxPrompts = Number(args['held-out']);
  if (args['ppo-iterations']) e.stages.ppo.iterations = Number(args['ppo-iterations']);
  if (args['lora-rank']) e.stages.lora.rank = Number(args['lora-rank']);
  if (args.judge) e.stages.evaluate.judge = args.judge as Experiment['stages']['evaluate']['judge'];
  for (const assignment of args.set ?? []) setStage(e, assignment);
  if (args.policy) e.models.policy = models.policy!;
  if (args.feedback) e.models.feedback = models.feedback!;
  return e;
}

/**
 * The models named on the command line, as the page sees them: a folder on disk is served
 * by a Hub on 127.0.0.1 under "local/<folder name>" (so it loads exactly as a foreign
 * checkpoint from the Hub does), a Hub id stays as it is.
 */
async function modelIds(): Promise<{
  policy?: string;
  feedback?: string;
  hub: StandInHub | null;
}> {
  const folders: Record<string, string> = {};
  const idOf = (value: string | undefined, role: string) => {
    if (value === undefined) return undefined;
    if (existsSync(value) && statSync(value).isDirectory()) {
      const id = `local/${basename(resolve(value))}`;
      folders[id] = resolve(value);
      return id;
    }
    if (isHubId(value)) return value;
    throw new Error(`--${role} ${value}: neither a model folder on disk nor a Hub id owner/name.`);
  };
  const policy = idOf(args.policy, 'policy');
  const feedback = idOf(args.feedback, 'feedback');
  const hub = Object.keys(folders).length ? await startStandInHub(folders) : null;
  return { policy, feedback, hub };
}

for (const flag of ['adapter-out', 'merged-out'] as const)
  if (args[flag] && !(Number(args['lora-rank'] ?? 0) > 0))
    throw new Error(`--${flag} writes a LoRA adapter: train one with --lora-rank N (N > 0).`);
const models = await modelIds();
if (models.hub && args['hub-endpoint'])
  throw new Error(
    '--hub-endpoint and a model folder cannot be combined: the folder is served by a local Hub.',
  );
const hubEndpoint = models.hub?.url ?? args['hub-endpoint'];
// The page may fetch from this endpoint (its Content-Security-Policy names it).
if (hubEndpoint) process.env.HF_ENDPOINT = hubEndpoint;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printReport(r: ExperimentReport, experiment: Experiment): void {
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

/** One run of the experiment at `seed`, in a fresh page of `browser`. */
async function runSeed(browser: Browser, url: string, seed: number) {
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
  await page.goto(`${url}?backend=${encodeURIComponent(args.backend)}`);
  await page.waitForFunction(() => 'caiPlayground' in globalThis);
  const experiment = customise(
    await page.evaluate(() => {
      type Handle = { defaultExperiment: () => Experiment };
      return (globalThis as unknown as { caiPlayground: Handle }).caiPlayground.defaultExperiment();
    }),
    seed,
  );
  const { report, checkpoint, preferences, records, merged, samples } = await page.evaluate(
    async (data) => {
      type Run = typeof import('../src/lib/pipeline/run-experiment.ts').runExperiment;
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
    { experiment, stages, hubEndpoint, merged: !!args['merged-out'] },
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

/** A run's figures as the JSON output holds them (for each seed, and the first at the top). */
function resultJson({ experiment, report, preferences, ppoMetrics, samples }: SeedResult) {
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
function printSpread(spread: Record<string, Spread>, seeds: number[]): void {
  console.log(`
Over seeds ${seeds.join(', ')}: mean ± standard deviation (lowest – highest)`);
  console.log('| figure | mean ± sd | range |');
  console.log('| --- | --- | --- |');
  for (const [name, x] of Object.entries(spread)) {
    const f = name.startsWith('ppo.') ? (v: number) => v.toFixed(3) : pct;
    console.log(`| ${name} | ${f(x.mean)} ± ${f(x.sd)} | ${f(x.min)} – ${f(x.max)} |`);
  }
}

type SeedResult = Awaited<ReturnType<typeof runSeed>>;

async function main(): Promise<void> {
  const started = performance.now();
  console.log('Building the app…');
  await buildApp();
  const server = await serveVite();
  const browser = await launchChromium();
  try {
    const results = [];
    for (const seed of seeds) {
      if (seeds.length > 1)
        console.log(`\n══ Seed ${seed} (${results.length + 1} of ${seeds.length}) ══`);
      const result = await runSeed(browser, server.url, seed);
      printReport(result.report, result.experiment);
      results.push(result);
    }
    const total = (performance.now() - started) / 1000;
    const spread = seedSpread(results.map((r) => r.report));
    if (seeds.length > 1) printSpread(spread, seeds);
    console.log(
      `\nBackend ${results[0]!.report.backend}; whole run ${total.toFixed(0)} s (build and start included)${seeds.length > 1 ? `, ${(total / seeds.length).toFixed(0)} s a seed` : ''}.`,
    );
    const { experiment, checkpoint, records, merged } = results[0]!;
    // The chains' rounds as the page shows them: the experiment's one critique mode.
    const mode = experiment.stages.critique.mode;
    const run: DatasetRun = {
      ...records,
      chains: records.chains.map((c) => ({ ...c, rounds: c.rounds.map((r) => ({ ...r, mode })) })),
    };
    if (args.json) {
      const json = {
        definitions: scoreDefinitions,
        ...resultJson(results[0]!),
        // What `npm run export-trl` reads: the whole experiment and the run's datasets.
        experiment,
        records: run,
        ...(args['adapter-out'] && { adapterDir: resolve(args['adapter-out']) }),
        seeds: results.map(resultJson),
        spread,
      };
      writeFileSync(args.json, JSON.stringify(json, null, 2) + '\n');
      console.log(`Wrote ${args.json}.`);
    }
    if (args['adapter-out']) {
      const files = peftFilesOfCheckpoint(Buffer.from(checkpoint, 'base64'));
      mkdirSync(args['adapter-out'], { recursive: true });
      for (const [name, content] of Object.entries(files))
        writeFileSync(join(args['adapter-out'], name), content);
      console.log(
        `Wrote the ${stages === 'all' ? 'RL' : 'SL'}-CAI adapter (PEFT) to ${args['adapter-out']}.`,
      );
    }
    if (args['merged-out'] && merged) {
      writeFileSync(args['merged-out'], Buffer.from(merged, 'base64'));
      console.log(`Wrote the policy merged into its base to ${args['merged-out']}.`);
    }
    if (args.datasets) {
      mkdirSync(args.datasets, { recursive: true });
      const files = {
        sft: sftJsonl(run, experiment.stages.sft.everyRound),
        critiques: critiquesJsonl(run),
        preferences: preferencesJsonl(run),
      };
      for (const [name, text] of Object.entries(files))
        writeFileSync(join(args.datasets, `${name}.jsonl`), text);
      console.log(
        `Wrote sft.jsonl (messages), critiques.jsonl and preferences.jsonl (prompt/chosen/rejected) to ${args.datasets}.`,
      );
    }
    if (args.checkpoint) {
      writeFileSync(args.checkpoint, Buffer.from(checkpoint, 'base64'));
      console.log(`Wrote the ${stages === 'all' ? 'RL' : 'SL'}-CAI policy to ${args.checkpoint}.`);
    }
    const errors = results.flatMap(({ problems }) => [
      ...problems.pageErrors,
      ...problems.consoleErrors,
    ]);
    if (errors.length) console.warn(`Page problems:\n  ${errors.join('\n  ')}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('\n' + (error instanceof Error ? error.message : String(error)));
    process.exit(1);
  },
);
