/**
 * The experiment: everything a user chooses, as plain, versioned, validated data (it travels
 * in share links and JSON exports). What a run produces lives elsewhere.
 */
import { defaultStageConfigs, type StageConfigs } from './stage-configs.ts';
import { seedConstitution } from '../world/principles.ts';
import { promptsWhere } from '../world/prompts.ts';
import { Rng } from '../util/random.ts';
import { defaultTemplates, type PromptTemplates } from '../world/templates.ts';
import { seedPrompts } from '../world/topics.ts';

/** 2: LoRA settings (`stages.lora`) and the evaluation's judge; 3: the RL-CAI method
 * (`stages.rl`) and the DPO, GRPO and RLOO tables. Older versions read as this one
 * (experiment-check.ts). */
export const experimentVersion = 3;

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
