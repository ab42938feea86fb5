/**
 * What every step's work shares: its context, its result, the stages' seeds, and helpers to
 * read earlier outputs and tag trainers' events.
 */
import type { CheckpointSlot } from '../domain/policy.ts';
import type { OnTrainEvent } from '../domain/train-events.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { runEvaluate } from './evaluate.ts';
import type { EmitEvent } from './events.ts';
import type { Ports } from './ports.ts';
import { stepById, type StageName, type StepId, type StepOutputs } from './steps.ts';
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

export type StepRun = (ctx: StepContext, o: StepOutputs) => Promise<StepResult>;

/** An earlier step's output, which a later step cannot run without. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`This step needs ${what} first.`);
  return value;
}

/** A trainer's events, handed on with the stage they come from. */
export const tagged =
  (emit: EmitEvent, stage: StageName): OnTrainEvent =>
  (e) =>
    emit({ ...e, stage });

/** The held-out evaluation of the policy that step `id` scores (the step list says which). */
export const evaluateStep = (id: StepId) => async (ctx: StepContext) =>
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
