import type { PlanShape } from '../model/memory-plan.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { usesRewardModel } from './steps.ts';

/** Tokens a policy prompt takes at most: a user message in its chat template (the tiny
 * world's and typical red-team prompts are under 40 tokens; the template adds about 20). */
export const promptTokenBudget = 64;

/**
 * The largest training batch and lengths an experiment gives the policy, for its memory plan
 * (a training step's activations dominate it): the widest of SFT's batch, the reward model's
 * (two sequences per pair) and the RL-CAI method's step, with the longest answer any stage
 * samples; the method also decides how many models the plan holds.
 * Generation batches are wider (up to 16 prompts, or PPO's whole rollout) but keep only the
 * KV cache, which the plan counts at this batch: for the models this app trains, a few MB
 * per extra row.
 */
export function planShape(x: Experiment): PlanShape {
  const s = x.stages;
  const method = s.rl.method;
  // The RL-CAI method's widest training step: a PPO minibatch, DPO's pairs (two sequences
  // each), or a pass of GRPO's or RLOO's answers (rl/group-rl.ts: 16 rows at most).
  const online = (c: { promptsPerIteration: number; numGenerations: number }) =>
    Math.min(16, c.promptsPerIteration * c.numGenerations);
  const rlBatch = {
    ppo: Math.ceil(s.ppo.batchSize / s.ppo.miniBatches),
    dpo: 2 * s.dpo.batchSize,
    grpo: online(s.grpo),
    rloo: online(s.rloo),
  }[method];
  const batch = Math.max(
    s.sft.batchSize,
    usesRewardModel(method) ? 2 * s.reward.batchSize : 0,
    rlBatch,
  );
  const answerTokens = Math.max(
    s.generate.maxNewTokens,
    s.label.sampling.maxNewTokens,
    s.evaluate.maxNewTokens,
    { ppo: s.ppo.responseLength, dpo: 0, grpo: s.grpo.responseLength, rloo: s.rloo.responseLength }[
      method
    ],
    // SFT trains on revisions, which the feedback model writes up to this long.
    s.critique.revision.maxNewTokens,
  );
  return { batch, promptTokens: promptTokenBudget, answerTokens, method };
}
