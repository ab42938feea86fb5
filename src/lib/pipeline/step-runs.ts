/**
 * What each step of the recipe does, by id (the list itself is steps.ts; SL-CAI's work is in
 * sl-cai-steps.ts, RL-CAI's in rl-cai-steps.ts): every run reads the outputs of earlier steps
 * and returns its own, plus the checkpoint of a model it trained.
 */
import type { Experiment } from '../experiment/experiment.ts';
import { dpo, evaluateRl, label, online, ppo, reward } from './rl-cai-steps.ts';
import { critique, generate, sft } from './sl-cai-steps.ts';
import { evaluateStep, type StepContext, type StepResult, type StepRun } from './step-context.ts';
import { nextStep, stepsOf, type RunStep, type StepId, type StepOutputs } from './steps.ts';
import { stageTimer } from './timing.ts';

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
