/**
 * How long a run of an experiment should take on this device, before it starts: the bench's
 * time of each step of the default experiment (timing-reference.json, written by
 * `npm run bench -- --pipeline`), scaled by how much work the experiment gives that step, and
 * by how fast this device ran one training step of the policy against the bench machine.
 * Rough by design (the feedback model's speed is assumed to scale the same way). Pure.
 */
import { heldOutPrompts } from '../pipeline/evaluate.ts';
import { trainingPrompts } from '../pipeline/sl-cai-steps.ts';
import { stepsOf, type StageSet, type StepId } from '../pipeline/steps.ts';
import type { RlMethod } from '../domain/modes.ts';
import type { Experiment } from '../experiment/experiment.ts';
import reference from './timing-reference.json';

export interface TimingReference {
  date: string;
  machine: string;
  backend: string;
  /** One training step of the tiny policy at this shape, median ms, on the bench machine. */
  trainStep: { batch: number; seq: number; ms: number };
  /** The default experiment's work per step (units of `stepWork`) and its seconds, headless;
   * a method's step the bench has not timed yet reads at the rate of the step it resembles. */
  steps: Partial<Record<StepId, { work: number; seconds: number }>> &
    Record<Exclude<StepId, 'dpo' | 'grpo' | 'rloo'>, { work: number; seconds: number }>;
}

/** The step whose measured rate stands in for a method's step the reference lacks: DPO
 * trains on pairs as the reward model does (two sequences a pair), GRPO and RLOO sample and
 * update on answer tokens as PPO does. */
const sameRate = { dpo: 'reward', grpo: 'ppo', rloo: 'ppo' } as const;

/** The reference's work and seconds of step `id` (or of the step it resembles, scaled). */
function referenceOf(ref: TimingReference, id: StepId): { work: number; seconds: number } {
  const own = ref.steps[id];
  if (own) return own;
  return ref.steps[sameRate[id as keyof typeof sameRate]];
}

export const timingReference: TimingReference = reference as TimingReference;

/** The work a step of `x` does, in the step's own unit (answers, critiques, examples…). */
export function stepWork(x: Experiment): Record<StepId, number> {
  const s = x.stages;
  const heldOut = heldOutPrompts(x.prompts.heldOut, s.evaluate).prompts.length;
  const answers = trainingPrompts(x).length;
  const pairs = answers * s.label.pairsPerPrompt;
  const online = (c: {
    iterations: number;
    promptsPerIteration: number;
    numGenerations: number;
    responseLength: number;
  }) => c.iterations * c.promptsPerIteration * c.numGenerations * c.responseLength;
  return {
    'evaluate-base': heldOut,
    generate: answers,
    critique: x.prompts.redTeam.length * s.critique.rounds,
    sft: answers * s.sft.epochs,
    'evaluate-sl': heldOut,
    label: pairs,
    reward: pairs * s.reward.epochs,
    ppo: s.ppo.iterations * s.ppo.batchSize * s.ppo.responseLength,
    dpo: pairs * s.dpo.epochs,
    grpo: online(s.grpo),
    rloo: online(s.rloo),
    'evaluate-rl': heldOut,
  };
}

/** Seconds of `stages` of `x` on a device whose training step took `stepMs` (at the
 * reference's shape), or on the bench machine when `stepMs` is null. */
export function estimateSeconds(
  x: Experiment,
  stages: StageSet,
  stepMs: number | null,
  ref: TimingReference = timingReference,
): number {
  const work = stepWork(x);
  const speed = stepMs === null ? 1 : stepMs / ref.trainStep.ms;
  let total = 0;
  for (const { id } of stepsOf(stages, x.stages.rl.method)) {
    const r = referenceOf(ref, id);
    total += r.work > 0 ? (r.seconds * work[id]) / r.work : 0;
  }
  return total * speed;
}

/** The bench's own seconds for `stages` of the default experiment (trained by `method`). */
export const referenceSeconds = (
  stages: StageSet,
  ref: TimingReference = timingReference,
  method: RlMethod = 'ppo',
) => stepsOf(stages, method).reduce((sum, { id }) => sum + referenceOf(ref, id).seconds, 0);

/** "8 s", "40 s", "2½ min", "12 min": a duration as a reader rounds it. */
export function roughDuration(seconds: number): string {
  if (seconds < 20) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90) return `${Math.round(seconds / 5) * 5} s`;
  const halves = Math.round(seconds / 30) / 2;
  if (halves < 10) return `${Math.floor(halves)}${halves % 1 ? '½' : ''} min`.replace(/^0½/, '½');
  return `${Math.round(seconds / 60)} min`;
}
