/**
 * The recipe's steps: every step any run can take, once each (`stepCatalog`), and the steps of
 * one run, built from its experiment (`stepsOf`): SL-CAI's five, then RL-CAI's by the method
 * the experiment chooses. The run view, the recipe overview, the run panel and step counts all
 * derive from these. Each step reads the outputs of the steps before it and adds its own;
 * because every output is plain data (and every trained model a checkpoint), a run can stop
 * after any step and go on later, or run a single step. What each step does is in
 * step-runs.ts, keyed by these ids.
 */
import { isOnlineMethod, rlMethods, type RlMethod } from '../domain/modes.ts';
import type {
  DpoRunResult,
  GroupRunResult,
  PolicyName,
  PpoRunResult,
  RewardRunResult,
  SftRunResult,
} from '../domain/policy.ts';
import type { Label } from '../domain/labels.ts';
import type { Chain, EvalResult, PreferenceRecord } from '../domain/records.ts';

/** The stages of CAI; evaluation runs as three steps (base, SL-CAI, RL-CAI). */
export type StageName =
  'generate' | 'critique' | 'sft' | 'label' | 'reward' | RlMethod | 'evaluate';
export type Phase = 'SL-CAI' | 'RL-CAI';

/** A trained model's result as stored (its checkpoint is kept beside the outputs). */
type Stored<T> = Omit<T, 'checkpoint'>;

/** What the steps produced so far (JSON-safe: it is stored with the run). */
export interface StepOutputs {
  evalBase?: EvalResult;
  answers?: { redTeam: string[]; ordinary: { prompt: string; text: string }[] };
  chains?: Chain[];
  /** The AI judge's labels of the chains' answers and each round's revisions, when the run's
   * judge is the feedback model and the policy is outside the tiny world (whose revisions the
   * world's judge cannot read). */
  revisionLabels?: { answers: Label[]; rounds: Label[][] };
  sft?: Stored<SftRunResult> & { examples: number; heldOutExamples: number };
  evalSl?: EvalResult;
  preferences?: PreferenceRecord[];
  reward?: Stored<RewardRunResult> & { train: number; heldOut: number };
  ppo?: Stored<PpoRunResult>;
  dpo?: Stored<DpoRunResult> & { train: number; heldOut: number };
  grpo?: Stored<GroupRunResult>;
  rloo?: Stored<GroupRunResult>;
  evalRl?: EvalResult;
  /** Mean reward-model score of each policy's held-out answers (when a reward model exists). */
  meanReward?: { base: number; sl: number; rl: number };
  /** Wall time of each finished step, seconds, by step id (runs stored before: by label,
   * read as ids by `secondsById`). */
  seconds: Partial<Record<StepId, number>>;
}

export interface StepInfo<Id extends string = string> {
  id: Id;
  /** What reports and logs call it ("critique and revise"); the page titles it by its stage. */
  label: string;
  stage: StageName;
  phase: Phase;
  /** The policy an evaluation step scores on the held-out prompts. */
  evaluates?: PolicyName;
  /** The output that marks it done. */
  output: Exclude<keyof StepOutputs, 'seconds' | 'meanReward'>;
}

const step = <const Id extends string>(s: StepInfo<Id>) => s;

/** A step that trains the RL-CAI policy by `method`. */
const methodStep = <const M extends RlMethod>(method: M) =>
  step({ id: method, label: method, stage: method, phase: 'RL-CAI', output: method });

/** Every step a run can take, in the order a run takes them. */
export const stepCatalog = [
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
  methodStep('ppo'),
  methodStep('dpo'),
  methodStep('grpo'),
  methodStep('rloo'),
  step({
    id: 'evaluate-rl',
    label: 'evaluate rl',
    stage: 'evaluate',
    phase: 'RL-CAI',
    evaluates: 'rl',
    output: 'evalRl',
  }),
] as const;

export type StepId = (typeof stepCatalog)[number]['id'];
export type RunStep = (typeof stepCatalog)[number];

/** Which stages to run: `sl` is SL-CAI (generate, critique/revise, SFT, evaluate); `all`
 * adds RL-CAI (labels, then the method's steps, evaluate). */
export type StageSet = 'sl' | 'all';

/** Whether an RL-CAI method learns from the reward model (trained from the labels first):
 * the online ones, which score their own samples with it. */
export const usesRewardModel = (method: RlMethod) => isOnlineMethod(method);

/** The steps of a run of `stages` whose RL-CAI trains by `method`, in order. */
export function stepsOf(stages: StageSet, method: RlMethod): RunStep[] {
  const trains: readonly string[] = rlMethods;
  return stepCatalog.filter((s) => {
    if (s.phase === 'SL-CAI') return true;
    if (stages === 'sl') return false;
    if (s.id === 'reward') return usesRewardModel(method);
    return trains.includes(s.id) ? s.id === method : true;
  });
}

/** SL-CAI is the first this many steps of every run; RL-CAI the rest. */
export const slStepCount = stepsOf('sl', 'ppo').length;

/** The stages in the order the recipe first reaches them (every method's). */
export const stageOrder: StageName[] = [...new Set(stepCatalog.map((s) => s.stage))];

/** The step with this id (ids come from the catalogue, so it always exists). */
export const stepById = (id: StepId) => stepCatalog.find((s) => s.id === id)!;

/** The index in `list` of the first step not done yet (list.length when all are). */
export function nextStep(o: StepOutputs, list: readonly RunStep[]): number {
  const at = list.findIndex((s) => o[s.output] === undefined);
  return at < 0 ? list.length : at;
}

/** The first step of a run of `stages` (RL-CAI's by `method`) that `o` has not done, with its
 * index in the run's steps; null when every one is done. */
export function pendingStep(
  o: StepOutputs,
  stages: StageSet,
  method: RlMethod,
): { step: RunStep; index: number } | null {
  const list = stepsOf(stages, method);
  const index = nextStep(o, list);
  return index < list.length ? { step: list[index]!, index } : null;
}

/** Step seconds as stored: runs stored before steps were timed by id keyed them by label
 * ("critique and revise"); this keys them by id. A key that is neither is kept as it is (the
 * run check has accepted the record; the report reads ids only). */
export function secondsById(seconds: Record<string, number>): StepOutputs['seconds'] {
  return Object.fromEntries(
    Object.entries(seconds).map(([key, s]) => [
      stepCatalog.find((step) => step.label === key)?.id ?? key,
      s,
    ]),
  );
}
