import type {
  GenerateSettings,
  PolicyName,
  SftExample,
  SftRunResult,
} from '../workers/protocol.ts';
import type { SftConfig } from './config.ts';

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
