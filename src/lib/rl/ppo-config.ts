import type { KlEstimator } from '../ops/advantages.ts';

/**
 * PPO settings. Defaults follow TRL's PPOConfig where they fit a 1M-parameter model trained
 * for a few dozen iterations in a browser tab; where they differ, the comment says why.
 */
export interface PpoConfig {
  /** Rollout → update iterations. */
  iterations: number; // 8
  /** Prompts per iteration, one response each (TRL: batch_size 64). 60 is every red-team
   * prompt of the default experiment, so each iteration's mean score is over the same
   * prompts and the score curve shows learning, not which prompts were drawn. */
  batchSize: number; // 60
  /** Most new tokens per response (TRL: response_length 53; the world's answers fit in 64). */
  responseLength: number; // 64
  /** Sampling temperature of rollouts (TRL: 0.7; 1 here, the temperature the evaluation
   * samples at: at 0.7 the SL-CAI policy's rollouts of a prompt are all the same answer). */
  temperature: number; // 1
  /** Weight of the per-token KL penalty to the reference (TRL: 0.05). */
  klCoef: number; // 0.05
  /** k1 = logp - logref (TRL's default), or k3, never negative and less noisy. */
  klEstimator: KlEstimator; // 'k1'
  /** Surrogate ratio clip (TRL: cliprange 0.2). */
  clipRange: number; // 0.2
  /** Value clip around the rollout's values (TRL: cliprange_value 0.2). */
  clipRangeValue: number; // 0.2
  /** Weight of the value loss (TRL: vf_coef 0.1). */
  vfCoef: number; // 0.1
  gamma: number; // 1
  lam: number; // 0.95
  /** First iterations that train only the value model, the policy frozen (OpenRLHF's
   * freezing_actor_steps; TRL has none). The value model starts as the reward model, which
   * scores whole answers, not prefixes: until it has learned, its advantages are noise that
   * whitening blows up to full-size policy updates. */
  valueWarmup: number; // 2
  /** Passes over each batch (TRL: num_ppo_epochs 4). */
  ppoEpochs: number; // 4
  /** Minibatches per pass (TRL: num_mini_batches 1; 4 of 15 here, for memory). */
  miniBatches: number; // 4
  /** AdamW learning rate, decayed linearly to 0 (TRL: 3e-6, for models a thousand times
   * larger). Measured on the default run: at 3e-5 the near-deterministic SL-CAI policy drifted
   * (KL 1-3 nats per answer, more garbled answers); at 1e-5 KL stays under 0.2. */
  learningRate: number; // 1e-5
  /** AdamW learning rate of the value model, decayed the same way (TRL uses one rate for both;
   * AdamW ignores vfCoef's scale, so the value model, a copy of the reward model, needs its
   * own rate to learn the returns within the warm-up). */
  valueLearningRate: number; // 2e-4
  maxGradNorm: number; // 1
  /** Subtracted from the score of a response that never ended (TRL docs suggest 1.0). */
  missingEosPenalty: number; // 1
  /** Whiten the per-token rewards before GAE (TRL: false). */
  whitenRewards: boolean; // false
}

export const defaultPpoConfig: PpoConfig = {
  iterations: 8,
  batchSize: 60,
  responseLength: 64,
  temperature: 1,
  klCoef: 0.05,
  klEstimator: 'k1',
  clipRange: 0.2,
  clipRangeValue: 0.2,
  vfCoef: 0.1,
  gamma: 1,
  lam: 0.95,
  valueWarmup: 2,
  ppoEpochs: 4,
  miniBatches: 4,
  learningRate: 1e-5,
  valueLearningRate: 2e-4,
  maxGradNorm: 1,
  missingEosPenalty: 1,
  whitenRewards: false,
};
