/**
 * What each step of the recipe does (the list itself is steps.ts): every run reads the
 * outputs of earlier steps and returns its own, plus the checkpoint of a model it trained.
 */
import type { CheckpointSlot, PreferencePair } from '../domain/policy.ts';
import type { OnTrainEvent } from '../domain/train-events.ts';
import type { EvalResult } from '../domain/records.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { runCritiqueRevise } from './critique-revise.ts';
import { runEvaluate } from './evaluate.ts';
import type { EmitEvent } from './events.ts';
import { answerAll } from './generate.ts';
import { runLabel } from './label.ts';
import type { Ports } from './ports.ts';
import { buildSftSet, splitHeldOut } from './sft-data.ts';
import {
  nextStep,
  stepById,
  stepsOf,
  type RunStep,
  type StageName,
  type StepId,
  type StepOutputs,
} from './steps.ts';
import { stageTimer } from './timing.ts';
import { speaksTinyWorld } from '../world/model-names.ts';

/** Seeds of the stages, derived from the experiment's seed so each stage has its own stream. */
export const stageSeeds = (seed: number) => ({
  generate: seed * 1000 + 1,
  critique: seed * 1000 + 2,
  sft: seed * 1000 + 3,
  evaluate: seed * 1000 + 4,
  label: seed * 1000 + 5,
  reward: seed * 1000 + 6,
  ppo: seed * 1000 + 7,
  // The other RL-CAI methods start from the same stream as PPO, so a comparison differs by
  // the method alone.
  dpo: seed * 1000 + 7,
  grpo: seed * 1000 + 7,
  rloo: seed * 1000 + 7,
});

export interface StepContext {
  experiment: Experiment;
  ports: Ports;
  emit: EmitEvent;
  signal: AbortSignal;
}

export interface StepResult {
  outputs: Partial<StepOutputs>;
  checkpoint?: { slot: CheckpointSlot; bytes: Uint8Array };
}

type StepRun = (ctx: StepContext, o: StepOutputs) => Promise<StepResult>;

/** An earlier step's output, which a later step cannot run without. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`This step needs ${what} first.`);
  return value;
}

/** A trainer's events, handed on with the stage they come from. */
const tagged =
  (emit: EmitEvent, stage: StageName): OnTrainEvent =>
  (e) =>
    emit({ ...e, stage });

/** The held-out evaluation of the policy that step `id` scores (the step list says which). */
const evaluateStep = (id: StepId) => async (ctx: StepContext) =>
  runEvaluate(
    ctx.experiment.prompts.heldOut,
    stepById(id).evaluates!,
    ctx.experiment.stages.evaluate,
    stageSeeds(ctx.experiment.seed).evaluate,
    ctx.ports,
    {
      feedbackModel: ctx.experiment.models.feedback,
      worldReads: speaksTinyWorld(ctx.experiment.models.policy),
    },
    ctx.emit,
    ctx.signal,
  );

/** The prompts the generate step answers, in order: the red-team prompts, then each ordinary
 * prompt as many times as it is sampled. */
export function trainingPrompts({ prompts, stages }: Experiment): string[] {
  const helpful = prompts.ordinary.flatMap((p) =>
    new Array<string>(stages.generate.helpfulSamples).fill(p),
  );
  return [...prompts.redTeam, ...helpful];
}

async function generate({ experiment, ports, emit, signal }: StepContext): Promise<StepResult> {
  const { prompts, stages } = experiment;
  const all = trainingPrompts(experiment);
  const helpfulPrompts = all.slice(prompts.redTeam.length);
  const texts = await answerAll(
    ports.policy,
    'base',
    all,
    stages.generate,
    stageSeeds(experiment.seed).generate,
    'generate',
    'answer-',
    emit,
    signal,
  );
  texts.forEach((text, index) =>
    emit({
      type: 'answer',
      index,
      kind: index < prompts.redTeam.length ? 'red-team' : 'ordinary',
      prompt: all[index]!,
      text,
    }),
  );
  const answers = {
    redTeam: texts.slice(0, prompts.redTeam.length),
    ordinary: texts
      .slice(prompts.redTeam.length)
      .map((text, i) => ({ prompt: helpfulPrompts[i]!, text })),
  };
  return { outputs: { answers } };
}

async function critique(ctx: StepContext, o: StepOutputs): Promise<StepResult> {
  const { experiment } = ctx;
  const chains = await runCritiqueRevise(
    {
      prompts: experiment.prompts.redTeam,
      answers: need(o.answers, 'the policy’s answers (generate)').redTeam,
      constitution: experiment.constitution,
      templates: experiment.templates,
    },
    experiment.stages.critique,
    stageSeeds(experiment.seed).critique,
    ctx.ports.feedback,
    ctx.emit,
    ctx.signal,
  );
  return { outputs: { chains } };
}

async function sft({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.sft;
  const seed = stageSeeds(experiment.seed).sft;
  const examples = buildSftSet(
    need(o.chains, 'the revisions (critique and revise)'),
    need(o.answers, 'the policy’s answers (generate)').ordinary,
    config.everyRound,
  );
  const { train, heldOut } = splitHeldOut(examples, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.sft(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'sft'),
    signal,
  );
  return {
    outputs: { sft: { ...result, examples: train.length, heldOutExamples: heldOut.length } },
    checkpoint: { slot: 'sl' as const, bytes: checkpoint },
  };
}

async function label({ experiment, ports, emit, signal }: StepContext): Promise<StepResult> {
  const preferences = await runLabel(
    {
      prompts: [...experiment.prompts.redTeam, ...experiment.prompts.ordinary],
      constitution: experiment.constitution,
      templates: experiment.templates,
    },
    experiment.stages.label,
    stageSeeds(experiment.seed).label,
    ports,
    emit,
    signal,
  );
  if (preferences.length < 2)
    throw new Error(
      `Only ${preferences.length} preference pair${preferences.length === 1 ? '' : 's'} survived labelling (the rest were identical answers or too close to call): the reward model needs at least 2. Raise the pairs per prompt or the pair sampling temperature, or lower the minimum margin.`,
    );
  return { outputs: { preferences } };
}

/** The labelled pairs as the trainers read them, split into train and held-out. */
function labelledPairs(o: StepOutputs, heldOutShare: number, seed: number) {
  const pairs: PreferencePair[] = need(o.preferences, 'preference labels (label)').map(
    ({ prompt, chosen, rejected, label }) => ({ prompt, chosen, rejected, label }),
  );
  return splitHeldOut(pairs, heldOutShare, seed);
}

async function reward({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.reward;
  const seed = stageSeeds(experiment.seed).reward;
  const { train, heldOut } = labelledPairs(o, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.reward(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'reward'),
    signal,
  );
  return {
    outputs: { reward: { ...result, train: train.length, heldOut: heldOut.length } },
    checkpoint: { slot: 'reward' as const, bytes: checkpoint },
  };
}

// The online methods train on the red-team prompts: the reward model learned harmlessness
// preferences there; on ordinary prompts both answers are usually the same, so it has no
// signal to give and PPO would game it (measured: helpfulness fell from 93% to 2% when they
// were included).

async function ppo({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  need(o.reward, 'a reward model (reward)');
  const { checkpoint, ...result } = await ports.policy.ppo(
    experiment.prompts.redTeam,
    experiment.stages.ppo,
    stageSeeds(experiment.seed).ppo,
    tagged(emit, 'ppo'),
    signal,
  );
  return { outputs: { ppo: result }, checkpoint: { slot: 'rl' as const, bytes: checkpoint } };
}

/** GRPO or RLOO, against the reward model, on the red-team prompts (as PPO). */
const online =
  (kind: 'grpo' | 'rloo') =>
  async ({ experiment, ports, emit, signal }: StepContext, o: StepOutputs): Promise<StepResult> => {
    need(o.reward, 'a reward model (reward)');
    const method =
      kind === 'grpo'
        ? { kind, config: experiment.stages.grpo }
        : { kind, config: experiment.stages.rloo };
    const { checkpoint, ...result } = await ports.policy.groupRl(
      experiment.prompts.redTeam,
      method,
      stageSeeds(experiment.seed)[kind],
      tagged(emit, kind),
      signal,
    );
    return { outputs: { [kind]: result }, checkpoint: { slot: 'rl', bytes: checkpoint } };
  };

async function dpo({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.dpo;
  const seed = stageSeeds(experiment.seed).dpo;
  const { train, heldOut } = labelledPairs(o, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.dpo(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'dpo'),
    signal,
  );
  return {
    outputs: { dpo: { ...result, train: train.length, heldOut: heldOut.length } },
    checkpoint: { slot: 'rl' as const, bytes: checkpoint },
  };
}

async function evaluateRl(ctx: StepContext, o: StepOutputs): Promise<StepResult> {
  const rl = await evaluateStep('evaluate-rl')(ctx);
  // The reward model's mean score of each policy's answers, when the run has one (DPO has not).
  if (!o.reward) return { outputs: { evalRl: rl } };
  const meanScore = async (e: EvalResult) => {
    const scores = await ctx.ports.policy.rewardScores(
      e.samples.map((s) => ({ prompt: s.prompt, response: s.text })),
      ctx.signal,
    );
    return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  };
  const meanReward = {
    base: await meanScore(need(o.evalBase, 'the base policy’s evaluation')),
    sl: await meanScore(need(o.evalSl, 'the SL-CAI policy’s evaluation')),
    rl: await meanScore(rl),
  };
  return { outputs: { evalRl: rl, meanReward } };
}

/** Each step's work, by id (the type makes sure no step of the list lacks one). */
const runs: Record<StepId, StepRun> = {
  'evaluate-base': async (ctx) => ({
    outputs: { evalBase: await evaluateStep('evaluate-base')(ctx) },
  }),
  generate,
  critique,
  sft,
  'evaluate-sl': async (ctx) => ({ outputs: { evalSl: await evaluateStep('evaluate-sl')(ctx) } }),
  label,
  reward,
  ppo,
  dpo,
  grpo: online('grpo'),
  rloo: online('rloo'),
  'evaluate-rl': evaluateRl,
};

/** The steps of the experiment's run of `stages` (its RL-CAI method's). */
export const runStepsOf = (experiment: Experiment, stages: 'sl' | 'all'): RunStep[] =>
  stepsOf(stages, experiment.stages.rl.method);

/**
 * Runs the steps of the experiment's whole run not done yet, in order, up to (not including)
 * its step `end`; after each,
 * `onStep` gets the outputs so far and the step's checkpoint, so a caller can keep them.
 * Returns the outputs (a new object; `outputs` is not changed).
 */
export async function runSteps(
  ctx: StepContext,
  outputs: StepOutputs,
  end: number,
  onStep: (
    outputs: StepOutputs,
    checkpoint?: StepResult['checkpoint'],
  ) => Promise<void> | void = () => {},
): Promise<StepOutputs> {
  let o: StepOutputs = { ...outputs, seconds: { ...outputs.seconds } };
  const timed = stageTimer(ctx.emit, o.seconds);
  const list = runStepsOf(ctx.experiment, 'all');
  for (let i = nextStep(o, list); i < Math.min(end, list.length); i = nextStep(o, list)) {
    const step = list[i]!;
    const { outputs: added, checkpoint } = await timed(step, () => runs[step.id](ctx, o));
    o = { ...o, ...added };
    await onStep(o, checkpoint);
  }
  return o;
}
