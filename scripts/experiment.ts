/**
 * `npm run experiment`: runs the CAI pipeline headless in Chromium, with the same stage code
 * and workers as the app, on the default experiment (or a variant), and prints the metrics.
 *
 * Options: --stages sl|all      SL-CAI (generate, critique/revise, SFT, evaluate), or all of CAI
 *                               (then labels, reward model, PPO, evaluate)
 *          --ppo-iterations N   PPO iterations (default: the experiment's)
 *          --method ppo|dpo|grpo|rloo   how RL-CAI learns from the AI labels (default: ppo,
 *                               the paper's reward model + PPO; JSON gains "method")
 *          --methods ppo,dpo,grpo,rloo  compare methods: one SL-CAI and one labelling (and one
 *                               reward model), then each method from them (with --stages all;
 *                               JSON "methods.<m>": eval of base, sl, rl, the method's first and
 *                               last metrics and its seconds; the top level is the first's run)
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
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seedSpread } from '../src/lib/pipeline/seed-spread.ts';
import { scoreDefinitions } from '../src/lib/domain/scores.ts';
import { isHubId } from '../src/lib/domain/model-id.ts';
import { customise } from './lib/experiment-variant.ts';
import { runSeed } from './lib/experiment-page.ts';
import { printMethods, printReport, printSpread, resultJson } from './lib/experiment-output.ts';
import { rlMethods, type RlMethod } from '../src/lib/domain/modes.ts';
import { peftFilesOfCheckpoint } from '../src/lib/model/checkpoints/peft.ts';
import {
  critiquesJsonl,
  preferencesJsonl,
  sftJsonl,
  type DatasetRun,
} from '../src/lib/runs/exports.ts';
import { launchChromium } from './lib/browser.ts';
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
    method: { type: 'string' },
    methods: { type: 'string' },
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

/** An RL-CAI method named on the command line, checked. */
function methodOf(text: string, flag: string): RlMethod {
  const m = text.trim();
  if (!(rlMethods as readonly string[]).includes(m))
    throw new Error(`--${flag} ${text}: the RL-CAI methods are ${rlMethods.join(', ')}.`);
  return m as RlMethod;
}
/** The methods `--methods` compares (each once), or null. */
function methodList(): RlMethod[] | null {
  if (args.methods === undefined) return null;
  if (args.method !== undefined) throw new Error('--method and --methods: give one of them.');
  if (stages !== 'all') throw new Error('--methods compares RL-CAI methods: add --stages all.');
  const list = args.methods.split(',').map((t) => methodOf(t, 'methods'));
  if (new Set(list).size !== list.length)
    throw new Error(`--methods ${args.methods}: a method is repeated.`);
  return list;
}
const methods = methodList();
if (args.method !== undefined) methodOf(args.method, 'method');

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
      const result = await runSeed(browser, server.url, seed, {
        backend: args.backend,
        stages,
        hubEndpoint,
        merged: !!args['merged-out'],
        ...(methods && { methods }),
        variant: (e, at) =>
          customise(e, at, { ...args, policy: models.policy, feedback: models.feedback }),
      });
      printReport(result.report, result.experiment);
      if (result.methods) printMethods(result.methods);
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
        ...resultJson(results[0]!, stages),
        // What `npm run export-trl` reads: the whole experiment and the run's datasets.
        experiment,
        records: run,
        ...(args['adapter-out'] && { adapterDir: resolve(args['adapter-out']) }),
        seeds: results.map((r) => resultJson(r, stages)),
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
