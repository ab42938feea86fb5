/**
 * Settings of each pipeline stage: one field table per stage (config/fields.ts), from which
 * the types, defaults, validation, the editor and share links derive. The trainers' own
 * tables sit beside them (model/sft-config.ts, model/reward-config.ts, rl/ppo-config.ts,
 * rl/dpo-config.ts, rl/online-config.ts);
 * this file adds the stage-level settings and puts the tables together. The defaults are
 * sized for the shipped tiny model in a browser tab: a whole SL-CAI run in a few minutes on
 * 2 CPU cores.
 */
import {
  band,
  bool,
  choice,
  defaultsOf,
  group,
  num,
  type ConfigOf,
  type NumberField,
} from '../config/fields.ts';
import { critiqueModes, evaluationJudges, labelModes, rlMethods } from '../domain/modes.ts';
import { loraFields } from '../model/adapters/lora-config.ts';
import { rewardTrainFields } from '../training/reward-config.ts';
import { sftTrainFields } from '../training/sft-config.ts';
import { dpoFields } from '../training/dpo-config.ts';
import { grpoFields, rlooFields } from '../training/online-config.ts';
import { ppoFields } from '../training/ppo-config.ts';

/** The sampling settings of one kind of text, with its defaults. */
function samplingFields(
  what: string,
  temperature: number,
  maxNewTokens: number,
  why: string,
  shown: { label?: string; main?: boolean } = {},
) {
  return {
    temperature: num({
      label: shown.label ?? `${what}: temperature`,
      main: shown.main,
      default: temperature,
      min: 0,
      max: 5,
      step: 0.1,
      help: `Sampling temperature, 0 for greedy: ${why}`,
    }),
    maxNewTokens: num({
      label: `${what}: most tokens`,
      default: maxNewTokens,
      min: 1,
      max: 512,
      integer: true,
      unit: 'tokens',
      help: 'Most new tokens per text.',
    }),
  } as const;
}

/** The share of a training set kept out for held-out figures (`set` names it in the help). */
const heldOutShare = (label: string, set: string, dflt: number, min: number): NumberField =>
  num({
    label,
    default: dflt,
    min,
    max: 0.5,
    help: `Share of the ${set} kept out of training to report held-out figures per epoch.`,
  });

export const generateFields = {
  ...samplingFields(
    'Answers',
    1,
    96,
    'the base policy is sampled at 1, so its answers show its real mixture.',
  ),
  helpfulSamples: num({
    label: 'Answers per ordinary prompt',
    default: 2,
    min: 0,
    max: 8,
    integer: true,
    unit: 'answers',
    help: 'Answers sampled per ordinary prompt for the SFT set (the helpful data). 2 puts as many helpful answers as revisions in the default experiment; measured with 1 (and 3 SFT epochs), SL-CAI lost up to 20 points of helpfulness on some seeds, to garbled answers and over-refusals.',
  }),
} as const;

export const critiqueFields = {
  mode: choice({
    label: 'Critique mode',
    values: critiqueModes,
    default: 'plain',
    names: { plain: 'plain', strict: 'strict (find ANY issue)', cot: 'chain of thought' },
    main: true,
    help: 'plain: critique the answer using the principle; strict: identify ANY potential issues; cot: four yes/no questions first, then the critique (chain of thought).',
  }),
  rounds: num({
    label: 'Critique rounds',
    default: 2,
    min: 1,
    max: 4,
    integer: true,
    unit: 'rounds',
    main: true,
    help: 'Each round samples a new principle, critiques the latest revision and revises it again; the paper used up to 4.',
  }),
  critique: group(
    'Critiques',
    samplingFields('Critiques', 0, 128, 'greedy, the feedback model’s most likely critique.'),
  ),
  revision: group(
    'Revisions',
    samplingFields('Revisions', 0, 96, 'greedy, the feedback model’s most likely revision.'),
  ),
} as const;

export const sftFields = {
  ...sftTrainFields,
  everyRound: bool({
    label: 'SFT on every round',
    default: false,
    help: 'Train on every round’s revision, not only the final one.',
  }),
  heldOutShare: heldOutShare('SFT held-out share', 'SFT examples', 0.1, 0),
} as const;

export const labelFields = {
  mode: choice({
    label: 'Preference mode',
    values: labelModes,
    default: 'plain',
    names: { plain: 'plain', cot: 'chain of thought (clamped)' },
    main: true,
    help: 'plain: P(A) from the log-probs of "(A)" against "(B)"; cot: the feedback model reasons step by step first, and the label is clamped into the chain-of-thought band (under All settings).',
  }),
  cotBand: band({
    label: 'Chain-of-thought band',
    default: [0.4, 0.6],
    min: 0,
    split: 0.5,
    max: 1,
    help: 'Chain-of-thought labels are clamped into this band (the paper’s 40-60%), since reasoning makes them overconfident.',
  }),
  sampling: group(
    'Answer pairs',
    samplingFields(
      'Answer pairs',
      1.3,
      96,
      'after SL-CAI the tiny policy is so sure of itself that at 1 almost every pair is two identical answers (6 of 90 prompts differ; 37 at 1.3).',
      { label: 'Pair sampling temperature', main: true },
    ),
  ),
  pairsPerPrompt: num({
    label: 'Preference pairs per prompt',
    default: 4,
    min: 1,
    max: 8,
    integer: true,
    unit: 'pairs',
    main: true,
    help: 'The SL-CAI policy answers each prompt twice per pair; pairs of identical answers are left out. Measured on the default experiment: 2 pairs a prompt left about 40 pairs, fewer than 10 of them against a harmful answer, too few for PPO to remove what the revisions missed; 4 leave 70-100.',
  }),
  // Measured on the default run (before the feedback model learned garbled answers): 30 of
  // 78 pairs had P(A) in 0.5-0.6, the rest 0.66-0.94.
  minMargin: num({
    label: 'Minimum label margin',
    default: 0.1,
    min: 0,
    // At 0.5 no pair could pass (P(A) never reaches 0 or 1): refused up front, not at labelling.
    max: 0.45,
    help: 'Pairs with |P(A) − 0.5| below this (before any clamping) are left out as too close to call; 0 keeps every pair. At most 0.45: at 0.5 no pair could pass, since P(A) never reaches 0 or 1.',
  }),
  reasoning: group(
    'Reasoning',
    samplingFields(
      'Reasoning',
      0,
      96,
      'greedy, how the feedback model writes its reasoning in chain-of-thought mode.',
    ),
  ),
} as const;

export const rewardFields = {
  ...rewardTrainFields,
  heldOutShare: heldOutShare('Preference held-out share', 'preference pairs', 0.2, 0.05),
} as const;

export const evaluateFields = {
  ...samplingFields(
    'Evaluation',
    1,
    96,
    'the same sampling as the base policy’s answers, so rates compare.',
  ),
  maxPrompts: num({
    label: 'Held-out prompts per kind (0 = all)',
    default: 0,
    min: 0,
    max: 10000,
    integer: true,
    unit: 'prompts',
    main: true,
    help: 'Cap on the held-out prompts of each kind; 0 scores every one. Fewer makes each evaluation faster and noisier.',
  }),
  judge: choice({
    label: 'Judge',
    values: evaluationJudges,
    default: 'world',
    names: {
      world: 'the tiny world’s exact judge',
      feedback: 'the feedback model (AI judge)',
      both: 'both, side by side',
    },
    main: true,
    help: 'world: the tiny world labels every answer exactly (it wrote them all; only for the tiny model). feedback: the feedback model labels each answer by the log-probs of lettered descriptions (harmful, evasive refusal, engages; helps or not), as the labels stage does: the only judge of a real model. both: the world’s figures with the AI judge’s beside them, and how often the two agree.',
  }),
} as const;

export const rlFields = {
  method: choice({
    label: 'RL-CAI method',
    values: rlMethods,
    default: 'ppo',
    names: {
      ppo: 'PPO on a reward model (the paper)',
      dpo: 'DPO on the labelled pairs',
      grpo: 'GRPO (groups, no value model)',
      rloo: 'RLOO (leave-one-out, no value model)',
    },
    main: true,
    help: 'How RL-CAI learns from the AI labels. ppo: a reward model learns the labels, then PPO (value model, GAE, clipping, KL to the SL-CAI policy) trains against it, as the paper does. dpo: no reward model, no sampling: the policy learns straight from the labelled pairs. grpo: several answers per prompt scored by the reward model, each compared with its group. rloo: the same, each answer baselined by the others’ mean, trained by REINFORCE.',
  }),
} as const;

/** Every stage's table, by the key its config has in an experiment. */
export const stageFields = {
  generate: group('Answer', generateFields),
  critique: group('Critique and revise', critiqueFields),
  sft: group('Fine-tune (SFT)', sftFields),
  label: group('AI preferences', labelFields),
  reward: group('Reward model', rewardFields),
  rl: group('RL-CAI method', rlFields),
  ppo: group('PPO', ppoFields),
  dpo: group('DPO', dpoFields),
  grpo: group('GRPO', grpoFields),
  rloo: group('RLOO', rlooFields),
  evaluate: group('Evaluate', evaluateFields),
  lora: group('Policy training (LoRA)', loraFields),
} as const;

export type StageConfigs = ConfigOf<typeof stageFields>;
export type GenerateConfig = StageConfigs['generate'];
export type CritiqueConfig = StageConfigs['critique'];
export type LabelConfig = StageConfigs['label'];
export type RewardConfig = StageConfigs['reward'];
export type EvaluateConfig = StageConfigs['evaluate'];
/** How one kind of text is sampled (temperature, most new tokens). */
export type TextSampling = CritiqueConfig['critique'];

export const defaultStageConfigs: StageConfigs = defaultsOf(stageFields);
