/**
 * The typed message protocol between the main thread and the two workers.
 *
 * Every request carries a numeric `id` and a `type`; every reply carries the request's `id`
 * and a `status`. A request ends with exactly one `done` or `error` reply; before that it may
 * send any number of `loading`, `progress`, `token` and `metrics` replies. Replies with
 * `id: 0` are unsolicited notices (a backend change after a GPU device loss).
 * Any long request can be stopped with `{ type: 'cancel', target: id }`; it then ends with an
 * `error` reply whose `cancelled` is true.
 */

import type { RewardStats, RewardTrainConfig } from '../model/reward-train.ts';
import type { SftConfig } from '../pipeline/config.ts';
import type { PpoConfig } from '../rl/ppo-config.ts';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

/** What the browser tells about its WebGPU adapter (GPUAdapterInfo plus limits we use). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as SwiftShader: correct but slow. */
  isFallbackAdapter: boolean;
  features: string[];
  maxBufferSize: number;
}

/** One backend's result in the start-up micro-benchmark. */
export interface CandidateReport {
  backend: BackendName;
  /** Whether the backend could be initialised at all. */
  available: boolean;
  /** Whether its results matched the float64 reference; null when not tested. */
  correct: boolean | null;
  /** Largest relative error against the reference (matmul and training losses). */
  maxRelError: number | null;
  /** Milliseconds for one timed matmul (after a warm-up run). */
  matmulMs: number | null;
  /** Milliseconds for one timed training step of a small MLP with Adam (after a warm-up). */
  trainStepMs: number | null;
  /** Wall time of the whole probe of this backend, warm-up and shader compilation included. */
  probeMs: number | null;
  verdict: 'chosen' | 'rejected' | 'not tested';
  /** Plain words: why this backend was chosen, rejected or not tested. */
  reason: string;
}

export interface BackendReport {
  backend: BackendName;
  mode: 'auto' | 'forced';
  /** Plain words: why this backend runs the models. */
  reason: string;
  adapter: AdapterInfo | null;
  candidates: CandidateReport[];
  /** Threads of the WASM backend's pool (null when WASM was never initialised). */
  wasmThreads: number | null;
  crossOriginIsolated: boolean;
  /** Set when the worker switched backends after a failure at run time. */
  fallbackFrom?: { backend: BackendName; error: string };
}

/** Result of running the same matmul and Adam steps on the active backend and on CPU. */
export interface CrossCheckSide {
  backend: BackendName;
  /** Row-major matmul product [size, size]. */
  matmul: number[];
  /** Loss before each Adam step. */
  losses: number[];
  /** Every weight after the last step, flattened in a fixed order. */
  weights: number[];
}

export interface CrossCheckResult {
  active: CrossCheckSide;
  cpu: CrossCheckSide;
  matmulMaxAbsDiff: number;
  lossMaxRelDiff: number;
  weightMaxAbsDiff: number;
}

export interface MatmulBenchRow {
  backend: BackendName;
  size: number;
  /** Median milliseconds of one size x size matmul, readback of one element included. */
  medianMs: number;
  gflops: number;
  reps: number;
}

export type { TrainBenchRow } from '../backend/train-bench.ts';
import type { TrainBenchRow } from '../backend/train-bench.ts';

export interface MatmulBenchResult {
  rows: MatmulBenchRow[];
  /** The start-up micro-benchmark re-run on each backend, as the choice saw it. */
  probes: CandidateReport[];
  /** Backends asked for that could not run, with the reason. */
  skipped: { backend: BackendName; reason: string }[];
}

export interface MemoryInfo {
  backend: BackendName;
  numTensors: number;
  numBytes: number;
}

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

/** Sampling settings of a generation request (defaults in model/chat-generate.ts). */
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

/** The policies the engine holds: the loaded model, its SL-CAI fine-tune, and the RL-CAI policy. */
export type PolicyName = 'base' | 'sl' | 'rl';

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
  checkpoint: Uint8Array;
}

export type EngineRequest =
  | { type: 'init'; backend: BackendPreference }
  /** Loads a model folder from this app's /models/<id>/ as the policy (dropping trained
   * policies); with `reuse`, a base policy already loaded from that folder is kept, with them. */
  | { type: 'loadPolicy'; model: string; reuse?: boolean }
  /** Answers user messages with a policy (default base); streams `token` events (index = prompt). */
  | { type: 'generate'; prompts: string[]; settings: GenerateSettings; policy?: PolicyName }
  /** Fine-tunes a copy of the base policy into the `sl` policy; streams `metrics` events. */
  | {
      type: 'sft';
      train: SftExample[];
      heldOut: SftExample[];
      config: SftConfig;
      seed: number;
    }
  /** Trains the reward model (SL-CAI trunk + scalar head) on preferences; streams `metrics`. */
  | {
      type: 'reward';
      train: PreferencePair[];
      heldOut: PreferencePair[];
      config: RewardTrainConfig;
      seed: number;
    }
  /** Loads a run's checkpoint (from sft, reward or ppo) into the engine, beside the base
   * policy it was trained from, so a stored run can go on. */
  | { type: 'loadCheckpoint'; slot: 'sl' | 'reward' | 'rl'; bytes: Uint8Array }
  /** Reward-model scores of answers to user messages. */
  | { type: 'rewardScore'; items: { prompt: string; response: string }[] }
  /** PPO from the SL-CAI policy against the reward model into the `rl` policy; streams
   * `metrics`, `samples` and `warning` events per iteration. */
  | { type: 'ppo'; prompts: string[]; config: PpoConfig; seed: number }
  /** Total log-probability of each option as a policy's answer to one user message. */
  | { type: 'score'; prompt: string; options: string[]; policy?: PolicyName }
  /** Logits [T, V] of the policy for one text (row-major), for cross-backend checks. */
  | { type: 'forwardLogits'; text: string }
  | { type: 'crossCheck'; size: number; steps: number; seed: number }
  | { type: 'matmulBench'; sizes: number[]; reps: number; backends: BackendName[] }
  /** Times training steps of the loaded policy's architecture (fresh weights) per backend. */
  | {
      type: 'trainBench';
      backends: BackendName[];
      shapes: { batch: number; seq: number }[];
      steps: number;
      warmup: number;
    }
  | { type: 'memory' }
  /** Destroys the WebGPU device after `delayMs` (0: now), as a driver reset would. */
  | { type: 'loseDevice'; delayMs: number };

/** What each engine request resolves to. */
export interface EngineResults {
  init: BackendReport;
  loadPolicy: PolicyInfo;
  generate: GenerateResult;
  sft: SftRunResult;
  score: { logprobs: number[] };
  reward: RewardRunResult;
  loadCheckpoint: { slot: 'sl' | 'reward' | 'rl' };
  rewardScore: { scores: number[] };
  ppo: PpoRunResult;
  forwardLogits: { logits: number[]; tokens: number; vocab: number; backend: BackendName };
  crossCheck: CrossCheckResult;
  matmulBench: MatmulBenchResult;
  trainBench: { rows: TrainBenchRow[]; skipped: { backend: BackendName; reason: string }[] };
  memory: MemoryInfo;
  /** Whether there was an active WebGPU device to destroy. */
  loseDevice: { hadDevice: boolean };
}

export type FeedbackDevice = 'webgpu' | 'wasm';

export interface FeedbackReport {
  device: FeedbackDevice;
  reason: string;
  adapter: AdapterInfo | null;
  transformersVersion: string;
  /** Where ONNX Runtime's WASM files are fetched from (must be this origin). */
  wasmUrls: string[];
  wasmThreads: number;
  crossOriginIsolated: boolean;
}

export type FeedbackRequest =
  | { type: 'init' }
  /** Loads /models/<id>/ (tokenizer + onnx/model.onnx) as the feedback model. */
  | { type: 'load'; model: string }
  /** Answers one user message; streams `token` events (index 0). */
  | { type: 'generate'; prompt: string; settings: GenerateSettings }
  /** Total log-probability of each option as the answer to one user message. */
  | { type: 'score'; prompt: string; options: string[] }
  /** Benchmark: greedy generation of `newTokens` for `batch` copies of one message. */
  | { type: 'benchGenerate'; prompt: string; batch: number; newTokens: number; useCache: boolean };

export interface FeedbackResults {
  init: FeedbackReport;
  load: { id: string; device: FeedbackDevice };
  generate: { text: string; tokens: number; seconds: number; device: FeedbackDevice };
  score: { logprobs: number[] };
  benchGenerate: { tokens: number; seconds: number };
}

/** A PPO rollout response with its reward-model score. */
export interface PpoSample {
  prompt: string;
  response: string;
  score: number;
  finished: boolean;
}

/** A request as it travels: the payload plus its id (so no request has a field named `id`). */
export type Envelope<Req> = (Req & { id: number }) | { type: 'cancel'; id: number; target: number };

export type Reply<Result> =
  | { id: number; status: 'loading'; message: string }
  | { id: number; status: 'ready'; backend: BackendReport }
  | { id: number; status: 'progress'; done: number; total: number; message: string }
  | { id: number; status: 'token'; text: string; index: number }
  | { id: number; status: 'metrics'; step: number; values: Record<string, number> }
  | { id: number; status: 'samples'; step: number; samples: PpoSample[] }
  | { id: number; status: 'warning'; step: number; message: string }
  | { id: number; status: 'done'; result: Result }
  | { id: number; status: 'error'; message: string; cancelled: boolean };

/** Replies other than the final `done`/`error`: the event stream of a request. */
export type ReplyEvent = Exclude<Reply<unknown>, { status: 'done' } | { status: 'error' }>;
