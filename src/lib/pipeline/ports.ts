import type { CritiqueMode } from '../domain/modes.ts';
import type {
  DpoRunResult,
  GenerateSettings,
  GroupRunResult,
  PolicyName,
  PpoRunResult,
  PreferencePair,
  RewardRunResult,
  SftExample,
  SftRunResult,
} from '../domain/policy.ts';
import type { OnTrainEvent } from '../domain/train-events.ts';
import type { DpoConfig } from '../training/dpo-config.ts';
import type { GroupMethod } from '../training/online-config.ts';
import type { PpoConfig } from '../training/ppo-config.ts';
import type { RewardConfig, StageConfigs } from '../experiment/stage-configs.ts';

/**
 * What the stages need from the models, whatever runs them: in the app and in
 * `npm run experiment` these are the engine and feedback workers (see worker-ports.ts).
 * Every call stops early when `signal` aborts, rejecting with an error. Trainers' events
 * (`onEvent`) arrive as the trainer made them.
 */
export interface PolicyPort {
  /** Answers each user message; `onText(index, delta)` streams the text as it is generated. */
  generate(
    policy: PolicyName,
    prompts: string[],
    settings: GenerateSettings,
    onText: (index: number, delta: string) => void,
    signal: AbortSignal,
  ): Promise<string[]>;
  /** Fine-tunes a copy of the base policy into the `sl` policy. */
  sft(
    train: SftExample[],
    heldOut: SftExample[],
    config: StageConfigs['sft'],
    seed: number,
    onEvent: OnTrainEvent,
    signal: AbortSignal,
  ): Promise<SftRunResult>;
  /** Trains the reward model from the SL-CAI policy on preference pairs. */
  reward(
    train: PreferencePair[],
    heldOut: PreferencePair[],
    config: RewardConfig,
    seed: number,
    onEvent: OnTrainEvent,
    signal: AbortSignal,
  ): Promise<RewardRunResult>;
  /** Reward-model scores of answers. */
  rewardScores(
    items: { prompt: string; response: string }[],
    signal: AbortSignal,
  ): Promise<number[]>;
  /** PPO from the SL-CAI policy into the `rl` policy. */
  ppo(
    prompts: string[],
    config: PpoConfig,
    seed: number,
    onEvent: OnTrainEvent,
    signal: AbortSignal,
  ): Promise<PpoRunResult>;
  /** DPO from the SL-CAI policy into the `rl` policy, on labelled pairs (no reward model). */
  dpo(
    train: PreferencePair[],
    heldOut: PreferencePair[],
    config: DpoConfig,
    seed: number,
    onEvent: OnTrainEvent,
    signal: AbortSignal,
  ): Promise<DpoRunResult>;
  /** GRPO or RLOO from the SL-CAI policy into the `rl` policy, against the reward model. */
  groupRl(
    prompts: string[],
    method: GroupMethod,
    seed: number,
    onEvent: OnTrainEvent,
    signal: AbortSignal,
  ): Promise<GroupRunResult>;
}

export interface FeedbackPort {
  generate(
    prompt: string,
    settings: GenerateSettings,
    onText: (delta: string) => void,
    signal: AbortSignal,
  ): Promise<string>;
  /** Total log-probability of each option as the answer to `prompt`. */
  scoreContinuations(prompt: string, options: string[], signal: AbortSignal): Promise<number[]>;
  /** The part of a critique the revision prompt quotes: how to read one depends on the
   * feedback model's wording (the tiny world's conclusions), so the stage does not know it. */
  quoteCritique(mode: CritiqueMode, critique: string): string;
}

export interface Ports {
  policy: PolicyPort;
  feedback: FeedbackPort;
}
