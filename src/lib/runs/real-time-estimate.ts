/**
 * How long a run of a real model's experiment should take, from a measured probe of the
 * policy's architecture on this device (backend/model-probe.ts): every policy generation is
 * counted as decoding steps of a batch, every trainer's update as training steps, and the
 * feedback model's tokens at the policy's per-step time scaled by the two models' sizes (an
 * assumption, said where the estimate is shown). Answers are counted at their longest, so it
 * is an upper bound. Pure.
 */
import type { ModelProbe } from '../domain/backend.ts';
import { heldOutPrompts } from '../pipeline/evaluate.ts';
import { generationBatch } from '../pipeline/generate.ts';
import { trainingPrompts } from '../pipeline/sl-cai-steps.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { judgeOptions } from '../world/judge-format.ts';

export interface RealEstimate {
  /** Seconds of SL-CAI and of the whole recipe. */
  sl: number;
  all: number;
  /** Whether the feedback model's time is in (its size is known) or left out. */
  feedbackCounted: boolean;
}

export function realRunSeconds(
  x: Experiment,
  probe: ModelProbe,
  /** Parameters of the feedback model over the policy's (null: unknown). */
  feedbackRatio: number | null,
): RealEstimate {
  const s = x.stages;
  const decode = (rows: number, tokens: number) =>
    Math.ceil(rows / generationBatch) * tokens * probe.decodeStepSeconds;
  const train = (steps: number, batch: number) =>
    steps * probe.trainStepSeconds * (batch / probe.batch);
  // The feedback model writes one text at a time: a policy step at batch 1 costs about one
  // decode step of the probe's batch on a GPU; more rows only cost more on a CPU, left out.
  const feedback = (tokens: number) =>
    feedbackRatio === null ? 0 : tokens * probe.decodeStepSeconds * feedbackRatio;
  const heldOut = heldOutPrompts(x.prompts.heldOut, s.evaluate).prompts.length;
  const answers = trainingPrompts(x).length;
  const pairs = answers * s.label.pairsPerPrompt;
  const evaluate =
    decode(heldOut, s.evaluate.maxNewTokens) +
    // The AI judge: one prefill per rotation of its options (one rotation per option), about
    // a critique's worth of tokens.
    (s.evaluate.judge === 'world' ? 0 : feedback(heldOut * judgeOptions['red-team'].length * 8));
  const critique = feedback(
    x.prompts.redTeam.length *
      s.critique.rounds *
      (s.critique.critique.maxNewTokens + s.critique.revision.maxNewTokens),
  );
  const sft = train(s.sft.epochs * Math.ceil(answers / s.sft.batchSize), s.sft.batchSize);
  const sl = 2 * evaluate + decode(answers, s.generate.maxNewTokens) + critique + sft;
  const label =
    decode(2 * pairs, s.label.sampling.maxNewTokens) +
    feedback(pairs * 2 * (s.label.mode === 'cot' ? s.label.reasoning.maxNewTokens : 8));
  const rewardSteps = s.reward.epochs * Math.ceil(pairs / s.reward.batchSize);
  const reward = train(rewardSteps, 2 * s.reward.batchSize);
  const updates = s.ppo.ppoEpochs * s.ppo.miniBatches;
  const ppo =
    s.ppo.iterations *
    (decode(s.ppo.batchSize, s.ppo.responseLength) +
      // Policy, reference, value and reward passes over the rollout: about a step's forward.
      train(4 / 3, s.ppo.batchSize) +
      // Each update trains the policy and the value model.
      train(2 * updates, s.ppo.batchSize / s.ppo.miniBatches));
  const all = sl + label + reward + ppo + evaluate;
  return { sl, all, feedbackCounted: feedbackRatio !== null };
}
