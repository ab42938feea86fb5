/**
 * `npm run experiment`'s variants of the default experiment: a constitution from a file,
 * the critique mode and rounds, fewer prompts, any stage setting by its field path.
 */
import { readFileSync } from 'node:fs';
import { fieldsOf, setAt } from '../../src/lib/config/fields.ts';
import type { Experiment } from '../../src/lib/experiment/experiment.ts';
import { experimentOrThrow } from '../../src/lib/experiment/experiment-check.ts';
import { stageFields } from '../../src/lib/experiment/stage-configs.ts';

/** Principles from a file: a JSON list of strings, or one per line (# starts a comment). */
export function readConstitution(file: string): string[] {
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

/** The command line's changes to the experiment (`npm run experiment`'s options). */
export interface VariantOptions {
  constitution?: string;
  mode?: string;
  rounds?: string;
  prompts?: string;
  'held-out'?: string;
  'ppo-iterations'?: string;
  method?: string;
  'lora-rank'?: string;
  judge?: string;
  set?: string[];
  /** The models as the page names them (a folder served by the stand-in Hub: local/NAME). */
  policy?: string;
  feedback?: string;
}

/** The experiment at `seed` with the command line's changes (a `--set` is checked at once;
 * the page checks the whole experiment before it runs). */
export function customise(experiment: Experiment, seed: number, args: VariantOptions): Experiment {
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
  if (args.method) e.stages.rl.method = args.method as Experiment['stages']['rl']['method'];
  if (args['lora-rank']) e.stages.lora.rank = Number(args['lora-rank']);
  if (args.judge) e.stages.evaluate.judge = args.judge as Experiment['stages']['evaluate']['judge'];
  for (const assignment of args.set ?? []) setStage(e, assignment);
  if (args.policy) e.models.policy = args.policy;
  if (args.feedback) e.models.feedback = args.feedback;
  return e;
}
