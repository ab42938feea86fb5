import { num, type ConfigOf } from '../config/fields.ts';

/**
 * Settings of the reward-model trainer (model/reward-train.ts), one field table: TRL's
 * RewardConfig in spirit (centering 0.01 as its docs suggest), sized for a few hundred pairs.
 */
export const rewardTrainFields = {
  epochs: num({
    label: 'Reward model epochs',
    default: 2,
    min: 1,
    max: 20,
    integer: true,
    unit: 'passes',
    main: true,
    help: 'Passes over the labelled pairs (TRL trains 1 on large sets).',
  }),
  batchSize: num({
    label: 'Reward model batch size',
    default: 8,
    min: 1,
    max: 64,
    integer: true,
    unit: 'pairs',
    help: 'Preference pairs per optimizer step.',
  }),
  learningRate: num({
    label: 'Reward model learning rate',
    default: 2e-4,
    min: 0,
    max: 0.1,
    step: 0.00001,
    help: 'Peak AdamW learning rate after the warm-up, then cosine decay.',
  }),
  warmupRatio: num({
    label: 'Reward model warm-up share',
    default: 0.1,
    min: 0,
    max: 1,
    help: 'Share of all steps spent warming the learning rate up linearly.',
  }),
  maxGradNorm: num({
    label: 'Reward model gradient clip',
    default: 1,
    min: 0,
    max: 1000,
    help: 'Global gradient-norm clip.',
  }),
  centering: num({
    label: 'Reward centering',
    default: 0.01,
    min: 0,
    max: 1,
    help: 'Weight of mean((r_chosen + r_rejected)²), which keeps rewards near zero (TRL’s center_rewards_coefficient; its docs suggest 0.01).',
  }),
} as const;

export type RewardTrainConfig = ConfigOf<typeof rewardTrainFields>;
