/**
 * The policies the engine holds and what its requests take and return: examples, preference
 * pairs, generation settings, the results of training runs. A leaf module (it imports only
 * other leaves).
 */
import type { BackendName } from './backend.ts';

/** The policy model the engine holds. */
export interface PolicyInfo {
  id: string;
  parameters: number;
  vocabSize: number;
  layers: number;
  hidden: number;
  contextLength: number;
  backend: BackendName;
}

/** Sampling settings of a generation request. */
export interface GenerateSettings {
  /** Maximum new tokens per answer. Default 96. */
  maxNewTokens: number;
  /** Sampling temperature; 0 is greedy. Default 1. */
  temperature: number;
  /** Top-k filter; 0 keeps all. Default 0. */
  topK: number;
  /** Nucleus (top-p) filter; 1 keeps all. Default 1. */
  topP: number;
  seed: number;
  /** Recompute every step without the KV cache (benchmarks and checks). Default false. */
  noCache: boolean;
  /** Generate exactly maxNewTokens, past any end-of-text token (benchmarks). Default false. */
  ignoreEos?: boolean;
}

export interface GenerateResult {
  texts: string[];
  /** New tokens per answer (EOS included). */
  tokenCounts: number[];
  finished: boolean[];
  seconds: number;
  backend: BackendName;
}

/** The trained models a run keeps (as safetensors files) and the engine can load back. */
export type CheckpointSlot = 'sl' | 'reward' | 'rl';

/** The policies the engine holds, in the order a run makes them: the loaded model, its SL-CAI
 * fine-tune, and the RL-CAI policy. */
export const policyNames = ['base', 'sl', 'rl'] as const;
export type PolicyName = (typeof policyNames)[number];

/** One supervised example: a user message and the answer to train on. */
export interface SftExample {
  prompt: string;
  response: string;
}

export interface SftRunResult {
  steps: number;
  trainLoss: number;
  evalLoss: number[];
  seconds: number;
  backend: BackendName;
  /** The fine-tuned weights as a safetensors file (the checkpoint to keep). */
  checkpoint: Uint8Array;
}

/** One AI-labelled preference: `label` is the probability that `chosen` is better (≥ 0.5). */
export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  label: number;
}

/** accuracy (chosen scored higher), margin (mean difference), loss, and reward spread. */
export interface RewardStats {
  loss: number;
  accuracy: number;
  margin: number;
  min_reward: number;
  mean_reward: number;
  max_reward: number;
}

export interface RewardRunResult {
  steps: number;
  /** Held-out statistics after each epoch. */
  eval: RewardStats[];
  seconds: number;
  /** The reward model (trunk and score head) as a safetensors file. */
  checkpoint: Uint8Array;
}

export interface PpoRunResult {
  iterations: number;
  /** Mean reward-model score of the first and the last iteration's rollouts. */
  scoreFirst: number;
  scoreLast: number;
  seconds: number;
  /** The engine's tensor bytes at their highest during training (runs stored before: none). */
  peakBytes?: number;
  checkpoint: Uint8Array;
}

/** A PPO rollout response with its reward-model score. */
/** DPO's run: its steps and the held-out statistics after each epoch (TRL's names). */
export interface DpoRunResult {
  steps: number;
  eval: Record<string, number>[];
  seconds: number;
  /** The engine's tensor bytes at their highest during training. */
  peakBytes?: number;
  checkpoint: Uint8Array;
}

/** GRPO's or RLOO's run, as PPO's: iterations and the mean score of the first and last. */
export type GroupRunResult = PpoRunResult;

export interface PpoSample {
  prompt: string;
  response: string;
  score: number;
  finished: boolean;
}
