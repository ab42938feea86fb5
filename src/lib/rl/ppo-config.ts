import type { KlEstimator } from '../ops/advantages.ts';

/**
 * PPO settings. Defaults follow TRL's PPOConfig where they fit a 1M-parameter model trained
 * for a few dozen iterations in a browser tab; where they differ, the comment says why.
 */
export interface PpoConfig {
  /** Rollout → update iterations. */
  iterations: number; // 24
  /** Prompts per iteration (one response each). */
  batchSize: number; // 16
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
  valueWarmup: number; // 4
  /** Passes over each batch (TRL: num_ppo_epochs 4). */
  ppoEpochs: number; // 4
  /** Minibatches per pass (TRL: num_mini_batches 1). */
  miniBatches: number; // 2
  /** AdamW learning rate, decayed linearly to 0 (TRL: 3e-6, for models a thousand times
   * larger; the tiny model barely moves at that rate in a few dozen iterations). */
  learningRate: number; // 3e-5
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
  iterations: 24,
  batchSize: 16,
  responseLength: 64,
  temperature: 1,
  klCoef: 0.05,
  klEstimator: 'k1',
  clipRange: 0.2,
  clipRangeValue: 0.2,
  vfCoef: 0.1,
  gamma: 1,
  lam: 0.95,
  valueWarmup: 4,
  ppoEpochs: 4,
  miniBatches: 2,
  learningRate: 1e-5,
  valueLearningRate: 2e-4,
  maxGradNorm: 1,
  missingEosPenalty: 1,
  whitenRewards: false,
};
