/**
 * The recipe's steps, in order: the one list the pipeline runs and the page shows (the run
 * view, the recipe overview, the run panel, step counts all derive from it). Each step reads
 * the outputs of the steps before it and adds its own; because every output is plain data
 * (and every trained model a checkpoint), a run can stop after any step and go on later, or
 * run a single step. What each step does is in step-runs.ts, keyed by these ids.
 */
import type { PolicyName, PpoRunResult, RewardRunResult, SftRunResult } from '../domain/policy.ts';
import type { Chain, EvalResult, PreferenceRecord } from '../domain/records.ts';

/** The stages of CAI; evaluation runs as three steps (base, SL-CAI, RL-CAI). */
export type StageName = 'generate' | 'critique' | 'sft' | 'label' | 'reward' | 'ppo' | 'evaluate';
export type Phase = 'SL-CAI' | 'RL-CAI';

/** What the steps produced so far (JSON-safe: it is stored with the run). */
export interface StepOutputs {
  evalBase?: EvalResult;
  answers?: { redTeam: string[]; ordinary: { prompt: string; text: string }[] };
  chains?: Chain[];
  sft?: Omit<SftRunResult, 'checkpoint'> & { examples: number; heldOutExamples: number };
  evalSl?: EvalResult;
  preferences?: PreferenceRecord[];
  reward?: Omit<RewardRunResult, 'checkpoint'> & { train: number; heldOut: number };
  ppo?: Omit<PpoRunResult, 'checkpoint'>;
  evalRl?: EvalResult;
  /** Mean reward-model score of each policy's held-out answers. */
  meanReward?: { base: number; sl: number; rl: number };
  /** Wall time of each finished step, seconds, by step label. */
  seconds: Record<string, number>;
}

export interface StepInfo<Id extends string = string> {
  id: Id;
  /** What the page and reports call it ("critique and revise"). */
  label: string;
  stage: StageName;
  phase: Phase;
  /** The policy an evaluation step scores on the held-out prompts. */
  evaluates?: PolicyName;
  /** The output that marks it done. */
  output: Exclude<keyof StepOutputs, 'seconds' | 'meanReward'>;
}

const step = <const Id extends string>(s: StepInfo<Id>) => s;

/** The recipe's steps in order. */
export const steps = [
  step({
    id: 'evaluate-base',
    label: 'evaluate base',
    stage: 'evaluate',
    phase: 'SL-CAI',
    evaluates: 'base',
    output: 'evalBase',
  }),
  step({
    id: 'generate',
    label: 'generate',
    stage: 'generate',
    phase: 'SL-CAI',
    output: 'answers',
  }),
  step({
    id: 'critique',
    label: 'critique and revise',
    stage: 'critique',
    phase: 'SL-CAI',
    output: 'chains',
  }),
  step({ id: 'sft', label: 'sft', stage: 'sft', phase: 'SL-CAI', output: 'sft' }),
  step({
    id: 'evaluate-sl',
    label: 'evaluate sl',
    stage: 'evaluate',
    phase: 'SL-CAI',
    evaluates: 'sl',
    output: 'evalSl',
  }),
  step({ id: 'label', label: 'label', stage: 'label', phase: 'RL-CAI', output: 'preferences' }),
  step({ id: 'reward', label: 'reward', stage: 'reward', phase: 'RL-CAI', output: 'reward' }),
  step({ id: 'ppo', label: 'ppo', stage: 'ppo', phase: 'RL-CAI', output: 'ppo' }),
  step({
    id: 'evaluate-rl',
    label: 'evaluate rl',
    stage: 'evaluate',
    phase: 'RL-CAI',
    evaluates: 'rl',
    output: 'evalRl',
  }),
] as const;

export type StepId = (typeof steps)[number]['id'];

/** Which stages to run: `sl` is SL-CAI (generate, critique/revise, SFT, evaluate); `all`
 * adds RL-CAI (label, reward model, PPO, evaluate). */
export type StageSet = 'sl' | 'all';

/** The steps of a stage set, in order. */
export const stepsOf = (stages: StageSet) =>
  steps.filter((s) => stages === 'all' || s.phase === 'SL-CAI');

/** SL-CAI is the first this many steps; RL-CAI the rest. */
export const slStepCount = stepsOf('sl').length;

/** The stages in the order the recipe first reaches them. */
export const stageOrder: StageName[] = [...new Set(steps.map((s) => s.stage))];

/** The step with this id (ids come from the list, so it always exists). */
export const stepById = (id: StepId) => steps.find((s) => s.id === id)!;

/** The index of the first step not done yet (steps.length when all are). */
export function nextStep(o: StepOutputs): number {
  const at = steps.findIndex((s) => o[s.output] === undefined);
  return at < 0 ? steps.length : at;
}
