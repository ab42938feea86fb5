import { bool, choice, defaultsOf, num, type ConfigOf, type FieldTable } from '../config/fields.ts';
import { rewardScalings } from '../ops/group-advantages.ts';

/**
 * Settings of GRPO and RLOO, the online methods without a value model: each samples a group
 * of answers per prompt from the policy, scores them with the reward model and trains on the
 * group's advantages. The shared sampling and optimisation settings are built once here, with
 * each method's defaults; the method's own settings follow. TRL's names in the help.
 */
function onlineFields(
  method: 'GRPO' | 'RLOO',
  d: {
    prompts: number;
    group: number;
    groupHelp: string;
    beta: number;
    betaHelp: string;
    learningRate: number;
    learningRateWhy: string;
  },
) {
  return {
    iterations: num({
      label: `${method} iterations`,
      default: 8,
      min: 1,
      max: 1000,
      integer: true,
      unit: 'iterations',
      main: true,
      help: 'Sample-score-update iterations, each over the next prompts of the red-team set (as PPO’s).',
    }),
    promptsPerIteration: num({
      label: `${method} prompts per iteration`,
      default: d.prompts,
      min: 1,
      max: 64,
      integer: true,
      unit: 'prompts',
      help: `Prompts per iteration, each answered ${d.group} times: as many answers per iteration as PPO’s 60, so the methods cost about the same.`,
    }),
    numGenerations: num({
      label: `${method} answers per prompt`,
      default: d.group,
      min: 2,
      max: 16,
      integer: true,
      unit: 'answers',
      main: true,
      help: d.groupHelp,
    }),
    responseLength: num({
      label: `${method} response length`,
      default: 48,
      min: 1,
      max: 256,
      integer: true,
      unit: 'tokens',
      help: 'Most new tokens per answer (TRL: max_completion_length); 48 fits every well-formed answer of the tiny world, as for PPO.',
    }),
    temperature: num({
      label: `${method} sampling temperature`,
      default: 1.3,
      min: 0.01,
      max: 5,
      help: 'Sampling temperature of the answers (TRL: 1.0); 1.3 as for PPO and the preference pairs: the SL-CAI policy is so sure of itself that at 1 a prompt’s answers are nearly all the same, and their advantages all zero.',
    }),
    beta: num({
      label: `${method} KL coefficient β`,
      default: d.beta,
      min: 0,
      max: 10,
      step: 0.01,
      main: true,
      help: d.betaHelp,
    }),
    learningRate: num({
      label: `${method} learning rate`,
      default: d.learningRate,
      min: 0,
      max: 0.1,
      step: 0.00001,
      main: true,
      help: `AdamW learning rate of the policy, decayed linearly to 0 (TRL: 1e-6 for models a thousand times larger). Chosen so the method moves about as far from the SL-CAI policy as PPO does (about 1 nat of KL per answer by the last iteration, on the training rollouts of the default experiment, seed 2): ${d.learningRateWhy}`,
    }),
    maxGradNorm: num({
      label: `${method} gradient clip`,
      default: 1,
      min: 0,
      max: 1000,
      help: 'Global gradient-norm clip (TRL: max_grad_norm 1).',
    }),
    missingEosPenalty: num({
      label: `${method} missing-EOS penalty`,
      default: 1,
      min: 0,
      max: 100,
      help: 'Subtracted from the score of an answer that never ended, as for PPO.',
    }),
  } as const satisfies FieldTable;
}

export const grpoFields = {
  ...onlineFields('GRPO', {
    prompts: 15,
    group: 4,
    groupHelp:
      'The group G each advantage is normalised in (TRL: num_generations 8); 4 keeps 60 answers per iteration over 15 prompts.',
    learningRate: 3e-4,
    learningRateWhy:
      'at PPO’s 1.5e-4 GRPO ended near 0.2 nats (0.005 per token) and left most of what SL-CAI complied with; at 3e-4 near 2 nats (0.06 per token), past PPO’s, and it lost helpfulness on seed 1 (93.8% → 84.5%): a rate near 2e-4 should match PPO’s budget (not measured yet).',
    beta: 0.04,
    betaHelp:
      'Weight of the per-token k3 KL to the SL-CAI policy in the loss (the paper: 0.04; TRL: 0.0, no reference loaded). Kept on here: without it, the tiny policy games the small reward model.',
  }),
  epsilon: num({
    label: 'GRPO clip ε',
    default: 0.2,
    min: 0,
    max: 1,
    help: 'Clip of the probability ratio in the surrogate (TRL: epsilon 0.2).',
  }),
  numIterations: num({
    label: 'GRPO updates per batch',
    default: 1,
    min: 1,
    max: 8,
    integer: true,
    unit: 'updates',
    help: 'Optimizer steps on each batch of answers (TRL: num_iterations 1, where the ratio is 1 and clipping never acts); more reuse the batch and the clip starts to matter.',
  }),
  scaleRewards: choice({
    label: 'GRPO reward scaling',
    values: rewardScalings,
    default: 'group',
    names: { group: 'group std (paper, TRL)', batch: 'batch std', none: 'none (Dr. GRPO)' },
    help: 'What the centred rewards are divided by (TRL: scale_rewards "group").',
  }),
} as const;

export const rlooFields = {
  ...onlineFields('RLOO', {
    prompts: 30,
    group: 2,
    groupHelp:
      'k answers per prompt, each baselined by the mean reward of the other k − 1 (TRL: num_generations 2; the paper compares 2 and 4).',
    learningRate: 3e-4,
    learningRateWhy:
      'at PPO’s 1.5e-4 RLOO ended near 0 nats and left most of what SL-CAI complied with; at 3e-4 it ended at 1.0 nat.',
    beta: 0.05,
    betaHelp:
      'Weight of the sequence KL to the SL-CAI policy subtracted from each answer’s reward before the baseline (TRL: beta 0.05).',
  }),
  normalizeAdvantages: bool({
    label: 'RLOO normalise advantages',
    default: false,
    help: 'Whiten the leave-one-out advantages over the batch (TRL: normalize_advantages false).',
  }),
} as const;

export type GrpoConfig = ConfigOf<typeof grpoFields>;
export type RlooConfig = ConfigOf<typeof rlooFields>;
export const defaultGrpoConfig: GrpoConfig = defaultsOf(grpoFields);
export const defaultRlooConfig: RlooConfig = defaultsOf(rlooFields);

/** An online method with its settings, as the engine's request carries it. */
export type GroupMethod =
  { kind: 'grpo'; config: GrpoConfig } | { kind: 'rloo'; config: RlooConfig };
