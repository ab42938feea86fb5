import type { PpoConfig } from '../rl/ppo-config.ts';
import type {
  GenerateSettings,
  PolicyName,
  PpoRunResult,
  PpoSample,
  PreferencePair,
  RewardRunResult,
  SftExample,
  SftRunResult,
} from '../workers/protocol.ts';
import type { RewardConfig, SftConfig } from './config.ts';

/** What PPO reports while it runs, per iteration. */
export type PpoProgress =
  | { kind: 'metrics'; step: number; values: Record<string, number> }
  | { kind: 'samples'; step: number; samples: PpoSample[] }
  | { kind: 'warning'; step: number; message: string };

/**
 * What the stages need from the models, whatever runs them: in the app and in
 * `npm run experiment` these are the engine and feedback workers (see worker-ports.ts).
 * Every call stops early when `signal` aborts, rejecting with an error.
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
    config: SftConfig,
    seed: number,
    onMetrics: (step: number, values: Record<string, number>) => void,
    signal: AbortSignal,
  ): Promise<SftRunResult>;
  /** Trains the reward model from the SL-CAI policy on preference pairs. */
  reward(
    train: PreferencePair[],
    heldOut: PreferencePair[],
    config: RewardConfig,
    seed: number,
    onMetrics: (step: number, values: Record<string, number>) => void,
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
    onProgress: (p: PpoProgress) => void,
    signal: AbortSignal,
  ): Promise<PpoRunResult>;
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
}

export interface Ports {
  policy: PolicyPort;
  feedback: FeedbackPort;
}

/** Throws the standard cancellation error when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new StageCancelled();
}

export class StageCancelled extends Error {
  constructor() {
    super('The run was stopped.');
    this.name = 'StageCancelled';
  }
}
