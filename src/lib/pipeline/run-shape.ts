import type { PlanShape } from '../model/memory-plan.ts';
import type { Experiment } from '../state/experiment.ts';
import { generationBatch } from './generate.ts';

/** Tokens a policy prompt takes at most: a user message in its chat template (the tiny
 * world's and typical red-team prompts are under 40 tokens; the template adds about 20). */
export const promptTokenBudget = 64;

/**
 * The largest batch and lengths an experiment gives the policy, for its memory plan: the
 * widest of generation (answers, pairs, evaluation), PPO's rollouts and updates, SFT and the
 * reward model (two sequences per pair), with the longest answer any stage samples.
 */
export function planShape(x: Experiment): PlanShape {
  const s = x.stages;
  const batch = Math.max(generationBatch, s.ppo.batchSize, s.sft.batchSize, 2 * s.reward.batchSize);
  const answerTokens = Math.max(
    s.generate.maxNewTokens,
    s.label.sampling.maxNewTokens,
    s.evaluate.maxNewTokens,
    s.ppo.responseLength,
    // SFT trains on revisions, which the feedback model writes up to this long.
    s.critique.revision.maxNewTokens,
  );
  return { batch, promptTokens: promptTokenBudget, answerTokens };
}
