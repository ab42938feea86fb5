/**
 * Settings of each pipeline stage, with their defaults. The defaults are sized for the
 * shipped tiny model in a browser tab: a whole SL-CAI run in a few minutes on 2 CPU cores.
 */

import type { RewardTrainConfig } from '../model/reward-train.ts';
import { defaultPpoConfig, type PpoConfig } from '../rl/ppo-config.ts';

export type CritiqueMode = 'plain' | 'strict' | 'cot';

/** Sampling settings shared by the stages that generate text. */
export interface SamplingConfig {
  /** 0 is greedy. */
  temperature: number;
  /** Maximum new tokens per text. */
  maxNewTokens: number;
}

export interface GenerateConfig extends SamplingConfig {
  /** Answers sampled per ordinary prompt for the SFT set (helpful data). */
  helpfulSamples: number;
}

export interface CritiqueConfig {
  /** plain: "critique using this principle"; strict: "identify ANY potential issues";
   * cot: four yes/no questions, then the critique (chain of thought). */
  mode: CritiqueMode;
  /** Critique → revision rounds per prompt, each with a freshly sampled principle (1-4). */
  rounds: number;
  critique: SamplingConfig;
  revision: SamplingConfig;
}

export interface SftConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate of AdamW after the linear warm-up. */
  learningRate: number;
  /** Share of all steps spent warming up linearly; then cosine decay to 10% of the peak. */
  warmupRatio: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
  weightDecay: number;
  /** Train on every round's revision, not only the final one. */
  everyRound: boolean;
  /** Share of the SFT set kept out of training to report held-out loss per epoch. */
  heldOutShare: number;
}

export interface LabelConfig {
  /** plain: score "(A)" against "(B)" directly; cot: reason step by step first, then score. */
  mode: 'plain' | 'cot';
  /** Chain-of-thought labels are clamped into this band (the paper's 40-60%). */
  cotBand: [number, number];
  /** How the SL-CAI policy samples the two answers to compare. */
  sampling: SamplingConfig;
  /** Pairs sampled per prompt (pairs of identical answers are left out). */
  pairsPerPrompt: number;
  /** Pairs with |P(A) - 0.5| below this (before any clamping) are left out as too close to
   * call; 0 keeps every pair. */
  minMargin: number;
  /** How the feedback model writes its reasoning (CoT mode). */
  reasoning: SamplingConfig;
}

/** Reward-model training (see model/reward-train.ts), plus the held-out share of pairs. */
export interface RewardConfig extends RewardTrainConfig {
  /** Share of the preference pairs kept out of training for accuracy and margin. */
  heldOutShare: number;
}

export interface EvaluateConfig extends SamplingConfig {
  /** Cap on held-out prompts per kind (0: all of them). */
  maxPrompts: number;
}

export interface StageConfigs {
  generate: GenerateConfig;
  critique: CritiqueConfig;
  sft: SftConfig;
  label: LabelConfig;
  reward: RewardConfig;
  ppo: PpoConfig;
  evaluate: EvaluateConfig;
}

export const defaultStageConfigs: StageConfigs = {
  // The base policy is sampled at temperature 1, so its answers show its real mixture.
  generate: { temperature: 1, maxNewTokens: 96, helpfulSamples: 1 },
  // Greedy feedback: the feedback model's most likely critique and revision.
  critique: {
    mode: 'plain',
    rounds: 2,
    critique: { temperature: 0, maxNewTokens: 128 },
    revision: { temperature: 0, maxNewTokens: 96 },
  },
  // A short, gentle fine-tune: the tiny model was pretrained at a peak of 3e-3.
  sft: {
    epochs: 3,
    batchSize: 8,
    learningRate: 5e-4,
    warmupRatio: 0.1,
    maxGradNorm: 1,
    weightDecay: 0,
    everyRound: false,
    heldOutShare: 0.1,
  },
  // SL-CAI leaves the tiny policy very sure of itself: at temperature 1 only 6 of the default
  // 90 prompts got two different answers (measured), at 1.3 about 37; two pairs per prompt
  // then give ~75 distinct pairs, of which the feedback model calls ~40. Greedy reasoning.
  label: {
    mode: 'plain',
    cotBand: [0.4, 0.6],
    sampling: { temperature: 1.3, maxNewTokens: 96 },
    pairsPerPrompt: 2,
    // Measured on the default run (before the feedback model learned garbled answers): 30 of
    // 78 pairs had P(A) in 0.5-0.6, the rest 0.66-0.94.
    minMargin: 0.1,
    reasoning: { temperature: 0, maxNewTokens: 96 },
  },
  // TRL's RewardConfig spirit (centering 0.01 as its docs suggest), sized for a few hundred pairs.
  reward: {
    epochs: 2,
    batchSize: 8,
    learningRate: 2e-4,
    warmupRatio: 0.1,
    maxGradNorm: 1,
    centering: 0.01,
    heldOutShare: 0.2,
  },
  ppo: { ...defaultPpoConfig },
  // The same sampling as the base policy's answers, so rates compare.
  evaluate: { temperature: 1, maxNewTokens: 96, maxPrompts: 0 },
};
