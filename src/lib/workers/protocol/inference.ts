import type { BackendName } from '../../domain/backend.ts';
import type { GenerateResult, GenerateSettings, PolicyName } from '../../domain/policy.ts';

/**
 * Inference with the loaded models: answers, option scores, reward scores and raw logits
 * (workers/engine/inference-handlers.ts).
 */

export type InferenceRequest =
  /** Answers user messages with a policy (default base); streams `token` events (index = prompt). */
  | { type: 'generate'; prompts: string[]; settings: GenerateSettings; policy?: PolicyName }
  /** Total log-probability of each option as a policy's answer to one user message. */
  | { type: 'score'; prompt: string; options: string[]; policy?: PolicyName }
  /** Reward-model scores of answers to user messages. */
  | { type: 'rewardScore'; items: { prompt: string; response: string }[] }
  /** Logits [T, V] of the policy for one text (row-major), for cross-backend checks. */
  | { type: 'forwardLogits'; text: string };

export interface InferenceResults {
  generate: GenerateResult;
  score: { logprobs: number[] };
  rewardScore: { scores: number[] };
  forwardLogits: { logits: number[]; tokens: number; vocab: number; backend: BackendName };
}
