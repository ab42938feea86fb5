/**
 * The one check of untrusted experiments (a share link, an imported run, the saved draft,
 * the console, a script): every field with its path and reason, stage settings by their field
 * tables (stage-configs.ts), no key the app does not know. Where an experiment enters, it
 * is checked here once; past that it is a typed `Experiment`.
 */
import { checkTable, num, numberProblem, type FieldError } from '../config/fields.ts';
import { modelIdRule, modelSource } from '../domain/model-id.ts';
import { defaultStageConfigs, stageFields, type StageConfigs } from './stage-configs.ts';
import { speaksTinyWorld } from '../world/model-names.ts';
import { defaultLoraConfig } from '../model/adapters/lora-config.ts';
import {
  defaultTemplates,
  requiredVariables,
  variablesIn,
  type PromptTemplates,
} from '../world/templates.ts';
import { experimentVersion, type Experiment } from './experiment.ts';

export type { FieldError };
export type Validation = { ok: true; experiment: Experiment } | { ok: false; errors: FieldError[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const seedField = num({
  label: 'Seed',
  default: 1,
  min: 0,
  max: 2 ** 31 - 1,
  integer: true,
  help: 'Same seed, same experiment: principle sampling, generation and training all follow it.',
});

/** Longest text a single principle, prompt or template may have. */
const maxTextLength = 4000;

class Checker {
  readonly errors: FieldError[] = [];

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** The object at `path`, with any key outside `known` reported. */
  object(v: unknown, path: string, known: readonly string[]): Json {
    if (!isObject(v)) {
      this.fail(path, 'must be an object');
      return {};
    }
    for (const key of Object.keys(v))
      if (!known.includes(key))
        this.fail(path ? `${path}.${key}` : key, 'is not a field this app knows');
    return v;
  }

  text(v: unknown, path: string, { allowEmpty = false } = {}): string {
    if (typeof v !== 'string') this.fail(path, 'must be text');
    else if (!allowEmpty && v.trim() === '') this.fail(path, 'must not be empty');
    else if (v.length > maxTextLength)
      this.fail(path, `is longer than ${maxTextLength} characters`);
    else return v;
    return '';
  }

  texts(v: unknown, path: string, min: number, max: number): string[] {
    if (!Array.isArray(v)) {
      this.fail(path, 'must be a list of texts');
      return [];
    }
    if (v.length < min) this.fail(path, `needs at least ${min} item${min === 1 ? '' : 's'}`);
    if (v.length > max) this.fail(path, `has ${v.length} items; at most ${max} are allowed`);
    return v.map((item, i) => this.text(item, `${path}[${i}]`));
  }

  /** A prompt set: texts, each once (a prompt twice would be answered and scored twice). */
  prompts(v: unknown, path: string, min: number, max: number): string[] {
    const list = this.texts(v, path, min, max);
    list.forEach((text, i) => {
      const first = list.indexOf(text);
      if (text && first < i)
        this.fail(`${path}[${i}]`, `repeats prompt ${first + 1} ("${text.slice(0, 60)}")`);
    });
    return list;
  }

  seed(v: unknown, path: string): number {
    const problem = numberProblem(seedField, v);
    if (problem) this.fail(path, problem);
    return typeof v === 'number' ? v : 0;
  }

  modelId(v: unknown, path: string): string {
    const id = this.text(v, path);
    if (id && !modelSource(id)) this.fail(path, modelIdRule);
    return id;
  }
}

function checkTemplates(c: Checker, v: unknown): PromptTemplates {
  const keys = Object.keys(defaultTemplates) as (keyof PromptTemplates)[];
  const o = c.object(v, 'templates', keys);
  const out = {} as PromptTemplates;
  for (const key of keys) {
    const text = c.text(o[key], `templates.${key}`);
    const given = requiredVariables[key];
    for (const name of given)
      if (text && !text.includes(`{${name}}`))
        c.fail(`templates.${key}`, `must contain the variable {${name}}`);
    for (const name of variablesIn(text))
      if (!given.includes(name))
        c.fail(
          `templates.${key}`,
          `uses {${name}}, which this template is not given (it has ${given.map((g) => `{${g}}`).join(', ')})`,
        );
    out[key] = text;
  }
  return out;
}

const topKeys = [
  'version',
  'name',
  'seed',
  'constitution',
  'prompts',
  'templates',
  'models',
  'stages',
];

/**
 * An older experiment as this version says the same. Version 1 (before LoRA and AI judging)
 * fine-tuned whole models and was judged by the tiny world, so it gains `stages.lora` with
 * rank 0 and `stages.evaluate.judge` "world"; version 2 (before the RL-CAI methods) trained
 * by PPO, so it gains `stages.rl.method` "ppo" and the other methods' tables at their
 * defaults (which that method never reads). Other data is returned as it is.
 */
function upgraded(data: Record<string, unknown>): Record<string, unknown> {
  if (!isObject(data.stages)) return data;
  const { stages } = data;
  if (data.version === 1 && isObject(stages.evaluate))
    return upgraded({
      ...data,
      version: 2,
      stages: {
        ...stages,
        evaluate: { ...stages.evaluate, judge: 'world' },
        lora: { ...defaultLoraConfig, rank: 0 },
      },
    });
  if (data.version === 2)
    return {
      ...data,
      version: 3,
      stages: {
        ...stages,
        rl: { method: 'ppo' },
        dpo: defaultStageConfigs.dpo,
        grpo: defaultStageConfigs.grpo,
        rloo: defaultStageConfigs.rloo,
      },
    };
  return data;
}

/**
 * Checks untrusted data and returns a typed experiment (a fresh copy), or every problem
 * found, each naming its field.
 */
export function validateExperiment(input: unknown): Validation {
  const c = new Checker();
  if (!isObject(input)) {
    c.fail('experiment', 'must be an object');
    return { ok: false, errors: c.errors };
  }
  const data = upgraded(input);
  if (data.version !== experimentVersion) {
    const newer = typeof data.version === 'number' && data.version > experimentVersion;
    c.fail(
      'version',
      newer
        ? `is ${String(data.version)}, made by a newer version of the app (this one reads ${experimentVersion})`
        : `must be ${experimentVersion}`,
    );
    return { ok: false, errors: c.errors };
  }
  const o = c.object(data, '', topKeys);
  const prompts = c.object(o.prompts, 'prompts', ['redTeam', 'ordinary', 'heldOut']);
  const heldOut = c.object(prompts.heldOut, 'prompts.heldOut', ['redTeam', 'ordinary']);
  const models = c.object(o.models, 'models', ['policy', 'feedback']);
  const experiment: Experiment = {
    version: experimentVersion,
    name: c.text(o.name, 'name', { allowEmpty: true }),
    seed: c.seed(o.seed, 'seed'),
    constitution: c.texts(o.constitution, 'constitution', 1, 32),
    prompts: {
      redTeam: c.prompts(prompts.redTeam, 'prompts.redTeam', 1, 1000),
      ordinary: c.prompts(prompts.ordinary, 'prompts.ordinary', 0, 1000),
      heldOut: {
        redTeam: c.prompts(heldOut.redTeam, 'prompts.heldOut.redTeam', 1, 2000),
        ordinary: c.prompts(heldOut.ordinary, 'prompts.heldOut.ordinary', 0, 2000),
      },
    },
    templates: checkTemplates(c, o.templates),
    models: {
      policy: c.modelId(models.policy, 'models.policy'),
      feedback: c.modelId(models.feedback, 'models.feedback'),
    },
    stages: checkTable(stageFields, o.stages, 'stages', c.errors) as StageConfigs,
  };
  if (experiment.stages?.evaluate?.judge === 'world' && !speaksTinyWorld(experiment.models.policy))
    c.fail(
      'stages.evaluate.judge',
      `is "world", but the tiny world’s judge reads only the tiny model’s answers and the policy is "${experiment.models.policy}": use "feedback" (the AI judge) or "both"`,
    );
  return c.errors.length ? { ok: false, errors: c.errors } : { ok: true, experiment };
}

/** The errors as one readable message. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path} ${e.message}`).join('; ');
}

/** The experiment in `data`, or an error listing every problem (`what` names the source). */
export function experimentOrThrow(data: unknown, what = 'The experiment'): Experiment {
  const checked = validateExperiment(data);
  if (!checked.ok) throw new Error(`${what} is not valid: ${describeErrors(checked.errors)}.`);
  return checked.experiment;
}
