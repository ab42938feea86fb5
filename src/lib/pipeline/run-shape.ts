import type { PlanShape } from '../model/memory-plan.ts';
import type { Experiment } from '../experiment/experiment.ts';

/** Tokens a policy prompt takes at most: a user message in its chat template (the tiny
 * world's and typical red-team prompts are under 40 tokens; the template adds about 20). */
export const promptTokenBudget = 64;

/**
 * The largest training batch and lengths an experiment gives the policy, for its memory plan
 * (a training step's activations dominate it): the widest of SFT's batch, the reward model's
 * (two sequences per pair) and a PPO minibatch, with the longest answer any stage samples.
 * Generation batches are wider (up to 16 prompts, or PPO's whole rollout) but keep only the
 * KV cache, which the plan counts at this batch: for the models this app trains, a few MB
 * per extra row.
 */
export function planShape(x: Experiment): PlanShape {
  const s = x.stages;
  const batch = Math.max(
    s.sft.batchSize,
    2 * s.reward.batchSize,
    Math.ceil(s.ppo.batchSize / s.ppo.miniBatches),
  );
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
