/**
 * The experiment: everything a user chooses, as plain, versioned, validated data (it travels
 * in share links and JSON exports). What a run produces lives elsewhere.
 */
import { defaultStageConfigs, type StageConfigs } from '../pipeline/config.ts';
import { seedConstitution } from '../world/principles.ts';
import { promptsWhere } from '../world/prompts.ts';
import { Rng } from '../world/random.ts';
import { defaultTemplates, requiredVariables, type PromptTemplates } from '../world/templates.ts';
import { seedPrompts } from '../world/topics.ts';

export const experimentVersion = 1;

export interface PromptSets {
  /** Red-team prompts whose answers are critiqued and revised (the SL-CAI data). */
  redTeam: string[];
  /** Ordinary prompts whose answers keep the policy helpful during SFT. */
  ordinary: string[];
  /** Prompts no stage trains on; evaluation scores every policy on them. */
  heldOut: { redTeam: string[]; ordinary: string[] };
}

export interface Experiment {
  version: typeof experimentVersion;
  name: string;
  /** Seeds principle sampling, generation and training: same seed, same run. */
  seed: number;
  /** The principles, one text each. */
  constitution: string[];
  prompts: PromptSets;
  templates: PromptTemplates;
  models: {
    /** Folder under /models/ (offline) for the policy, trained by the engine worker. */
    policy: string;
    /** Folder under /models/, or a Hugging Face Hub id, for the feedback model. */
    feedback: string;
  };
  stages: StageConfigs;
}

/** Red-team and ordinary training prompts of the default experiment (seed prompts first). */
export const defaultPromptCounts = { redTeam: 60, ordinary: 30 };

function pickPrompts(kind: 'red-team' | 'ordinary', count: number, seed: number): string[] {
  const pool = promptsWhere({ kind, heldOut: false }).map((p) => p.text);
  const first = kind === 'red-team' ? seedPrompts : [];
  const rest = new Rng(seed).shuffle(pool.filter((t) => !first.includes(t)));
  return [...first, ...rest].slice(0, count);
}

/** The default experiment: the seed's constitution and prompts on the shipped tiny model. */
export function defaultExperiment(): Experiment {
  return {
    version: experimentVersion,
    name: 'The seed experiment',
    seed: 1,
    constitution: [...seedConstitution],
    prompts: {
      redTeam: pickPrompts('red-team', defaultPromptCounts.redTeam, 11),
      ordinary: pickPrompts('ordinary', defaultPromptCounts.ordinary, 12),
      heldOut: {
        redTeam: promptsWhere({ kind: 'red-team', heldOut: true }).map((p) => p.text),
        ordinary: promptsWhere({ kind: 'ordinary', heldOut: true }).map((p) => p.text),
      },
    },
    templates: { ...defaultTemplates },
    models: { policy: 'tiny-cai', feedback: 'tiny-cai' },
    stages: structuredClone(defaultStageConfigs),
  };
}

/** How many of each prompt set a cut-down experiment keeps (the first ones). */
export interface PromptCounts {
  redTeam: number;
  ordinary: number;
  heldOutRedTeam: number;
  heldOutOrdinary: number;
}

/** A copy of `e` with each prompt set cut to its first prompts: a quick run (tests, benchmarks). */
export function withFirstPrompts(e: Experiment, n: PromptCounts): Experiment {
  const out = structuredClone(e);
  out.prompts = {
    redTeam: e.prompts.redTeam.slice(0, n.redTeam),
    ordinary: e.prompts.ordinary.slice(0, n.ordinary),
    heldOut: {
      redTeam: e.prompts.heldOut.redTeam.slice(0, n.heldOutRedTeam),
      ordinary: e.prompts.heldOut.ordinary.slice(0, n.heldOutOrdinary),
    },
  };
  return out;
}

/** One problem with an experiment: the field's path and what is wrong. */
export interface FieldError {
  path: string;
  message: string;
}

export type Validation = { ok: true; experiment: Experiment } | { ok: false; errors: FieldError[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Longest text a single principle, prompt or template may have. */
const maxTextLength = 4000;
/** A model folder name, or a Hub id such as "HuggingFaceTB/SmolLM2-135M-Instruct". */
const modelIdPattern = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

class Checker {
  readonly errors: FieldError[] = [];

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  object(v: unknown, path: string): Json {
    if (isObject(v)) return v;
    this.fail(path, 'must be an object');
    return {};
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

  number(v: unknown, path: string, min: number, max: number, integer = false): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, 'must be a number');
    else if (integer && !Number.isInteger(v)) this.fail(path, 'must be a whole number');
    else if (v < min || v > max) this.fail(path, `must be between ${min} and ${max}`);
    else return v;
    return min;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v === 'boolean') return v;
    this.fail(path, 'must be true or false');
    return false;
  }

  sampling(v: unknown, path: string) {
    const o = this.object(v, path);
    return {
      temperature: this.number(o.temperature, `${path}.temperature`, 0, 5),
      maxNewTokens: this.number(o.maxNewTokens, `${path}.maxNewTokens`, 1, 512, true),
    };
  }
}

function checkTemplates(c: Checker, v: unknown): PromptTemplates {
  const o = c.object(v, 'templates');
  const out = {} as PromptTemplates;
  for (const key of Object.keys(defaultTemplates) as (keyof PromptTemplates)[]) {
    const text = c.text(o[key], `templates.${key}`);
    for (const name of requiredVariables[key])
      if (text && !text.includes(`{${name}}`))
        c.fail(`templates.${key}`, `must contain the variable {${name}}`);
    out[key] = text;
  }
  return out;
}

function checkLabel(c: Checker, v: unknown): StageConfigs['label'] {
  const o = c.object(v, 'stages.label');
  if (o.mode !== 'plain' && o.mode !== 'cot')
    c.fail('stages.label.mode', 'must be "plain" or "cot"');
  const band = o.cotBand;
  let cotBand: [number, number] = [0.4, 0.6];
  if (!Array.isArray(band) || band.length !== 2)
    c.fail('stages.label.cotBand', 'must be two numbers [low, high]');
  else {
    cotBand = [
      c.number(band[0], 'stages.label.cotBand[0]', 0, 0.5),
      c.number(band[1], 'stages.label.cotBand[1]', 0.5, 1),
    ];
  }
  return {
    mode: o.mode === 'cot' ? 'cot' : 'plain',
    cotBand,
    sampling: c.sampling(o.sampling, 'stages.label.sampling'),
    pairsPerPrompt: c.number(o.pairsPerPrompt, 'stages.label.pairsPerPrompt', 1, 8, true),
    minMargin: c.number(o.minMargin, 'stages.label.minMargin', 0, 0.5),
    reasoning: c.sampling(o.reasoning, 'stages.label.reasoning'),
  };
}

function checkReward(c: Checker, v: unknown): StageConfigs['reward'] {
  const o = c.object(v, 'stages.reward');
  const n = (key: string, min: number, max: number, integer = false) =>
    c.number(o[key], `stages.reward.${key}`, min, max, integer);
  return {
    epochs: n('epochs', 1, 20, true),
    batchSize: n('batchSize', 1, 64, true),
    learningRate: n('learningRate', 0, 0.1),
    warmupRatio: n('warmupRatio', 0, 1),
    maxGradNorm: n('maxGradNorm', 0, 1000),
    centering: n('centering', 0, 1),
    heldOutShare: n('heldOutShare', 0.05, 0.5),
  };
}

function checkPpo(c: Checker, v: unknown): StageConfigs['ppo'] {
  const o = c.object(v, 'stages.ppo');
  const n = (key: string, min: number, max: number, integer = false) =>
    c.number(o[key], `stages.ppo.${key}`, min, max, integer);
  if (o.klEstimator !== 'k1' && o.klEstimator !== 'k3')
    c.fail('stages.ppo.klEstimator', 'must be "k1" or "k3"');
  return {
    iterations: n('iterations', 1, 1000, true),
    batchSize: n('batchSize', 1, 64, true),
    responseLength: n('responseLength', 1, 256, true),
    temperature: n('temperature', 0.01, 5),
    klCoef: n('klCoef', 0, 10),
    klEstimator: o.klEstimator === 'k3' ? 'k3' : 'k1',
    clipRange: n('clipRange', 0, 1),
    clipRangeValue: n('clipRangeValue', 0, 10),
    vfCoef: n('vfCoef', 0, 10),
    gamma: n('gamma', 0, 1),
    lam: n('lam', 0, 1),
    valueWarmup: n('valueWarmup', 0, 1000, true),
    ppoEpochs: n('ppoEpochs', 1, 16, true),
    miniBatches: n('miniBatches', 1, 64, true),
    learningRate: n('learningRate', 0, 0.1),
    valueLearningRate: n('valueLearningRate', 0, 0.1),
    maxGradNorm: n('maxGradNorm', 0, 1000),
    missingEosPenalty: n('missingEosPenalty', 0, 100),
    whitenRewards: c.boolean(o.whitenRewards, 'stages.ppo.whitenRewards'),
  };
}

function checkStages(c: Checker, v: unknown): StageConfigs {
  const o = c.object(v, 'stages');
  const g = c.object(o.generate, 'stages.generate');
  const cr = c.object(o.critique, 'stages.critique');
  const s = c.object(o.sft, 'stages.sft');
  const e = c.object(o.evaluate, 'stages.evaluate');
  const mode = cr.mode;
  if (mode !== 'plain' && mode !== 'strict' && mode !== 'cot')
    c.fail('stages.critique.mode', 'must be "plain", "strict" or "cot"');
  return {
    generate: {
      ...c.sampling(g, 'stages.generate'),
      helpfulSamples: c.number(g.helpfulSamples, 'stages.generate.helpfulSamples', 0, 8, true),
    },
    critique: {
      mode: mode === 'strict' || mode === 'cot' ? mode : 'plain',
      rounds: c.number(cr.rounds, 'stages.critique.rounds', 1, 4, true),
      critique: c.sampling(cr.critique, 'stages.critique.critique'),
      revision: c.sampling(cr.revision, 'stages.critique.revision'),
    },
    sft: {
      epochs: c.number(s.epochs, 'stages.sft.epochs', 1, 20, true),
      batchSize: c.number(s.batchSize, 'stages.sft.batchSize', 1, 64, true),
      learningRate: c.number(s.learningRate, 'stages.sft.learningRate', 0, 0.1),
      warmupRatio: c.number(s.warmupRatio, 'stages.sft.warmupRatio', 0, 1),
      maxGradNorm: c.number(s.maxGradNorm, 'stages.sft.maxGradNorm', 0, 1000),
      weightDecay: c.number(s.weightDecay, 'stages.sft.weightDecay', 0, 1),
      everyRound: c.boolean(s.everyRound, 'stages.sft.everyRound'),
      heldOutShare: c.number(s.heldOutShare, 'stages.sft.heldOutShare', 0, 0.5),
    },
    label: checkLabel(c, o.label),
    reward: checkReward(c, o.reward),
    ppo: checkPpo(c, o.ppo),
    evaluate: {
      ...c.sampling(e, 'stages.evaluate'),
      maxPrompts: c.number(e.maxPrompts, 'stages.evaluate.maxPrompts', 0, 10000, true),
    },
  };
}

/**
 * Checks untrusted data (a share link, an imported file) and returns a typed experiment, or
 * every problem found, each naming its field.
 */
export function validateExperiment(data: unknown): Validation {
  const c = new Checker();
  if (!isObject(data)) {
    c.fail('experiment', 'must be an object');
    return { ok: false, errors: c.errors };
  }
  const o = data;
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
  const prompts = c.object(o.prompts, 'prompts');
  const heldOut = c.object(prompts.heldOut, 'prompts.heldOut');
  const models = c.object(o.models, 'models');
  const modelId = (v: unknown, path: string) => {
    const id = c.text(v, path);
    if (id && !modelIdPattern.test(id))
      c.fail(path, 'must be a model folder name or a Hugging Face id like "owner/name"');
    return id;
  };
  const experiment: Experiment = {
    version: experimentVersion,
    name: c.text(o.name, 'name', { allowEmpty: true }),
    seed: c.number(o.seed, 'seed', 0, 2 ** 31 - 1, true),
    constitution: c.texts(o.constitution, 'constitution', 1, 32),
    prompts: {
      redTeam: c.texts(prompts.redTeam, 'prompts.redTeam', 1, 1000),
      ordinary: c.texts(prompts.ordinary, 'prompts.ordinary', 0, 1000),
      heldOut: {
        redTeam: c.texts(heldOut.redTeam, 'prompts.heldOut.redTeam', 1, 2000),
        ordinary: c.texts(heldOut.ordinary, 'prompts.heldOut.ordinary', 0, 2000),
      },
    },
    templates: checkTemplates(c, o.templates),
    models: {
      policy: modelId(models.policy, 'models.policy'),
      feedback: modelId(models.feedback, 'models.feedback'),
    },
    stages: checkStages(c, o.stages),
  };
  return c.errors.length ? { ok: false, errors: c.errors } : { ok: true, experiment };
}

/** The errors as one readable message. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path} ${e.message}`).join('; ');
}
