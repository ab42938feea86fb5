/**
 * How a run's settings map onto TRL: every stage setting (the stages' field tables) has one
 * entry here, naming the TRL (or PEFT) argument it becomes in the exported config.yaml, or the
 * recipe's own `cai` key the exported scripts read where TRL has no such argument, and why a
 * mapping is not one to one. The exporter (trl-config.ts) refuses a setting with no entry (a new
 * setting must be mapped before it can be exported).
 */
import { loraModules, targetModules } from '../model/adapters/lora-config.ts';
import type { Experiment } from '../experiment/experiment.ts';
import type { YamlScalar } from './yaml.ts';

/** The TRL release the exported project is written for (and its config fields checked against). */
export const trlVersion = '1.9.0';

/** config.yaml's sections: a TRL or PEFT config class each, and the recipe's own settings. */
export const trlSections = {
  cai: 'the CAI recipe’s own settings (no TRL argument has them), read by sl_cai.py and rl_cai.py',
  sft: 'trl.SFTConfig (sl_cai.py)',
  reward: 'trl.RewardConfig (rl_cai.py)',
  ppo: 'trl.experimental.ppo.PPOConfig (rl_cai.py --algorithm ppo)',
  dpo: 'trl.DPOConfig (rl_cai.py --algorithm dpo)',
  grpo: 'trl.GRPOConfig (rl_cai.py --algorithm grpo)',
  rloo: 'trl.RLOOConfig (rl_cai.py --algorithm rloo)',
  lora: 'peft.LoraConfig (every trainer; null: full fine-tuning)',
} as const;
export type TrlSection = keyof typeof trlSections;

export type Value = YamlScalar | YamlScalar[];

/** One argument a setting becomes: `section`'s dotted `key`, with the setting's value or `value`. */
export interface Target {
  section: TrlSection;
  key: string;
  value?: (e: Experiment) => Value;
}

export interface SettingMap {
  to: Target[];
  /** Why TRL does not do exactly what the playground did (listed in the export's README). */
  differs?: string;
}

export const to = (section: TrlSection, key: string, value?: Target['value']): Target => ({
  section,
  key,
  value,
});
const cai = (key: string, value?: Target['value']) => to('cai', key, value);

/** PPO's prompts per minibatch: the run's prompts per iteration (never more than it has red-team
 * prompts) over its minibatches, rounded up; TRL's batch is this × minibatches × processes. */
const perMiniBatch = ({ stages, prompts }: Experiment) =>
  Math.ceil(Math.min(stages.ppo.batchSize, prompts.redTeam.length) / stages.ppo.miniBatches);

/** The settings GRPO and RLOO share (rl/online-config.ts), mapped onto their TRL config. */
function onlineMaps(m: 'grpo' | 'rloo'): Record<string, SettingMap> {
  return {
    [`${m}.iterations`]: { to: [to(m, 'max_steps')] },
    [`${m}.promptsPerIteration`]: {
      to: [
        to(m, 'per_device_train_batch_size', ({ stages, prompts }) => {
          const c = stages[m];
          return Math.min(c.promptsPerIteration, prompts.redTeam.length) * c.numGenerations;
        }),
      ],
      differs: `TRL counts ${m.toUpperCase()}’s batch in answers, not prompts: per_device_train_batch_size is the run’s prompts per iteration × answers per prompt (on one process).`,
    },
    [`${m}.numGenerations`]: { to: [to(m, 'num_generations')] },
    [`${m}.responseLength`]: { to: [to(m, 'max_completion_length')] },
    [`${m}.temperature`]: { to: [to(m, 'temperature')] },
    [`${m}.beta`]: { to: [to(m, 'beta')] },
    [`${m}.learningRate`]: { to: [to(m, 'learning_rate')] },
    [`${m}.maxGradNorm`]: { to: [to(m, 'max_grad_norm')] },
    [`${m}.missingEosPenalty`]: {
      to: [cai(`${m}.missing_eos_penalty`)],
      differs: `TRL’s ${m.toUpperCase()} has no missing-EOS penalty (mask_truncated_completions is the nearest): an answer that never ended keeps its score there.`,
    },
  };
}

/** Every stage setting, by its path in an experiment's `stages`. */
export const settingMaps: Record<string, SettingMap> = {
  'generate.temperature': { to: [cai('answers.temperature')] },
  'generate.maxNewTokens': { to: [cai('answers.max_new_tokens')] },
  'generate.helpfulSamples': { to: [cai('answers.answers_per_ordinary_prompt')] },
  'critique.mode': { to: [cai('critique.mode')] },
  'critique.rounds': { to: [cai('critique.rounds')] },
  'critique.critique.temperature': { to: [cai('critiques.temperature')] },
  'critique.critique.maxNewTokens': { to: [cai('critiques.max_new_tokens')] },
  'critique.revision.temperature': { to: [cai('revisions.temperature')] },
  'critique.revision.maxNewTokens': { to: [cai('revisions.max_new_tokens')] },
  'sft.epochs': { to: [to('sft', 'num_train_epochs')] },
  'sft.batchSize': { to: [to('sft', 'per_device_train_batch_size')] },
  'sft.learningRate': { to: [to('sft', 'learning_rate')] },
  'sft.warmupRatio': { to: [to('sft', 'warmup_steps')] },
  'sft.maxGradNorm': { to: [to('sft', 'max_grad_norm')] },
  'sft.weightDecay': { to: [to('sft', 'weight_decay')] },
  'sft.everyRound': { to: [cai('sft.every_round')] },
  'sft.heldOutShare': {
    to: [cai('sft.held_out_share')],
    differs:
      'The SFT and reward held-out splits are drawn by Python’s random module, so they hold other examples than the run’s (the same share).',
  },
  'label.mode': { to: [cai('labels.mode')] },
  'label.cotBand': { to: [cai('labels.cot_band')] },
  'label.sampling.temperature': { to: [cai('pair_sampling.temperature')] },
  'label.sampling.maxNewTokens': { to: [cai('pair_sampling.max_new_tokens')] },
  'label.pairsPerPrompt': { to: [cai('labels.pairs_per_prompt')] },
  'label.minMargin': { to: [cai('labels.min_margin')] },
  'label.reasoning.temperature': { to: [cai('reasoning.temperature')] },
  'label.reasoning.maxNewTokens': { to: [cai('reasoning.max_new_tokens')] },
  'reward.epochs': { to: [to('reward', 'num_train_epochs')] },
  'reward.batchSize': { to: [to('reward', 'per_device_train_batch_size')] },
  'reward.learningRate': { to: [to('reward', 'learning_rate')] },
  'reward.warmupRatio': { to: [to('reward', 'warmup_steps')] },
  'reward.maxGradNorm': { to: [to('reward', 'max_grad_norm')] },
  'reward.centering': { to: [to('reward', 'center_rewards_coefficient')] },
  'reward.heldOutShare': { to: [cai('reward.held_out_share')] },
  'rl.method': { to: [cai('rl.method')] },
  'ppo.iterations': {
    to: [
      to('ppo', 'total_episodes', (e) => {
        const { iterations, miniBatches } = e.stages.ppo;
        return iterations * perMiniBatch(e) * miniBatches;
      }),
      cai('ppo.iterations'),
    ],
  },
  'ppo.batchSize': {
    to: [to('ppo', 'per_device_train_batch_size', perMiniBatch)],
    differs:
      'TRL’s rollout batch is per_device_train_batch_size × num_mini_batches × processes: the run’s prompts per iteration divided by its minibatches (rounded up) on one process; with several processes, divide per_device_train_batch_size by their number to keep the run’s batch.',
  },
  'ppo.responseLength': { to: [to('ppo', 'response_length')] },
  'ppo.temperature': { to: [to('ppo', 'temperature')] },
  'ppo.klCoef': { to: [to('ppo', 'kl_coef')] },
  'ppo.klEstimator': { to: [to('ppo', 'kl_estimator')] },
  'ppo.clipRange': { to: [to('ppo', 'cliprange')] },
  'ppo.clipRangeValue': { to: [to('ppo', 'cliprange_value')] },
  'ppo.vfCoef': { to: [to('ppo', 'vf_coef')] },
  'ppo.gamma': { to: [to('ppo', 'gamma')] },
  'ppo.lam': { to: [to('ppo', 'lam')] },
  'ppo.valueWarmup': {
    to: [cai('ppo.value_warmup_iterations')],
    differs:
      'TRL’s PPO has no value warm-up: the policy trains from the first batch (the run trained only the value model in its first iterations).',
  },
  'ppo.ppoEpochs': { to: [to('ppo', 'num_ppo_epochs')] },
  'ppo.miniBatches': { to: [to('ppo', 'num_mini_batches')] },
  'ppo.learningRate': { to: [to('ppo', 'learning_rate')] },
  'ppo.valueLearningRate': {
    to: [cai('ppo.value_learning_rate')],
    differs:
      'TRL’s PPO trains the policy and the value model with one learning rate (learning_rate); the run gave the value model its own.',
  },
  'ppo.maxGradNorm': { to: [to('ppo', 'max_grad_norm')] },
  'ppo.missingEosPenalty': { to: [to('ppo', 'missing_eos_penalty')] },
  'ppo.whitenRewards': { to: [to('ppo', 'whiten_rewards')] },
  'dpo.beta': { to: [to('dpo', 'beta')] },
  'dpo.softLabels': {
    to: [cai('dpo.soft_labels')],
    differs:
      'TRL’s DPOTrainer has one label_smoothing for every pair: with soft labels on, rl_cai.py sets it to the mean of 1 − p over the labelled pairs (the run gave each pair its own p).',
  },
  'dpo.epochs': { to: [to('dpo', 'num_train_epochs')] },
  'dpo.batchSize': { to: [to('dpo', 'per_device_train_batch_size')] },
  'dpo.learningRate': { to: [to('dpo', 'learning_rate')] },
  'dpo.warmupRatio': { to: [to('dpo', 'warmup_steps')] },
  'dpo.maxGradNorm': { to: [to('dpo', 'max_grad_norm')] },
  'dpo.heldOutShare': { to: [cai('dpo.held_out_share')] },
  ...onlineMaps('grpo'),
  'grpo.epsilon': { to: [to('grpo', 'epsilon')] },
  'grpo.numIterations': { to: [to('grpo', 'num_iterations')] },
  'grpo.scaleRewards': { to: [to('grpo', 'scale_rewards')] },
  ...onlineMaps('rloo'),
  'rloo.normalizeAdvantages': { to: [to('rloo', 'normalize_advantages')] },
  'evaluate.temperature': { to: [cai('evaluate.temperature')] },
  'evaluate.maxNewTokens': { to: [cai('evaluate.max_new_tokens')] },
  'evaluate.maxPrompts': { to: [cai('evaluate.max_prompts')] },
  'evaluate.judge': {
    to: [cai('evaluate.judge')],
    differs:
      'The scripts train; they do not evaluate. The held-out prompts are in data/prompts.jsonl (split "held_out") for an evaluation of your own; the tiny world’s exact judge exists only in the playground.',
  },
  'lora.rank': { to: [to('lora', 'r')] },
  'lora.alpha': { to: [to('lora', 'lora_alpha')] },
  'lora.dropout': { to: [to('lora', 'lora_dropout')] },
  'lora.rsLora': { to: [to('lora', 'use_rslora')] },
  ...Object.fromEntries(
    loraModules.map((m) => [
      `lora.targets.${m}`,
      { to: [to('lora', 'target_modules', (e) => targetModules(e.stages.lora))] },
    ]),
  ),
};
