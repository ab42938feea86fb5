/**
 * The typed message protocol between the main thread and the two workers.
 *
 * Every request carries a numeric `id` and a `type`; every reply carries the request's `id`
 * and a `status`. A request ends with exactly one `done` or `error` reply; before that it may
 * send any number of `loading`, `progress`, `token` and `train` replies. Replies with
 * `id: 0` are unsolicited notices (a backend or device change after a GPU device loss).
 * Any long request can be stopped with `{ type: 'cancel', target: id }`; it then ends with an
 * `error` reply whose `cancelled` is true.
 */

import type {
  BackendName,
  BackendPreference,
  BackendReport,
  CrossCheckResult,
  KernelSetName,
  FeedbackDevice,
  FeedbackReport,
  MatmulBenchResult,
  MemoryInfo,
  TrainBenchRow,
} from '../domain/backend.ts';
import type {
  CheckpointSlot,
  GenerateResult,
  GenerateSettings,
  PolicyInfo,
  PolicyName,
  PpoRunResult,
  DpoRunResult,
  GroupRunResult,
  PreferencePair,
  RewardRunResult,
  SftExample,
  SftRunResult,
} from '../domain/policy.ts';
import type { TrainEvent } from '../domain/train-events.ts';
import type { KernelBenchRow, KernelBenchShape, KernelCheckResult } from '../domain/kernels.ts';
import type { CachedModel } from '../model/download.ts';
import type { ModelProbe } from '../domain/backend.ts';
import type { HubRef } from '../model/hub.ts';
import type { LoraConfig } from '../model/lora-config.ts';
import type { ModelConfig } from '../model/config.ts';
import type { PlanShape } from '../model/memory-plan.ts';
import type { InspectResult } from '../model/inspect.ts';
import type { RewardTrainConfig } from '../model/reward-config.ts';
import type { SftConfig } from '../model/sft-config.ts';
import type { DpoConfig } from '../rl/dpo-config.ts';
import type { GroupMethod } from '../rl/online-config.ts';
import type { PpoConfig } from '../rl/ppo-config.ts';

export type EngineRequest =
  | { type: 'init'; backend: BackendPreference; kernels?: KernelSetName }
  /** Switches between the fused WGSL kernels and tfjs's stock ops (WebGPU; others run stock). */
  | { type: 'setKernels'; kernels: KernelSetName }
  /** Loads a model folder from this app's /models/<id>/ as the policy (dropping trained
   * policies); with `reuse`, a base policy already loaded from that folder is kept, with them.
   * With `hub`, the Hub model `model` from the browser's cache (downloaded before); with
   * `files`, the checkpoint files the user picked. */
  | {
      type: 'loadPolicy';
      model: string;
      reuse?: boolean;
      hub?: HubRef;
      files?: File[];
      /** Train LoRA adapters on the frozen model with these settings (absent or null: full
       * fine-tuning of copies, the tiny model's way). */
      lora?: LoraConfig | null;
    }
  /** A LoRA checkpoint of the loaded base merged into it: one safetensors model. */
  | { type: 'mergedPolicy'; checkpoint: Uint8Array }
  /** A Hub model's config and weight headers, and its memory plan (only on the user's click). */
  | { type: 'inspectHub'; hub: HubRef; shape: PlanShape; lora: LoraConfig | null }
  /** The inspection, then a quick measured probe of its architecture (random weights, 1 and
   * 2 layers) at `probe`'s batch and length: the times a run's estimate is made of. */
  | {
      type: 'probeHub';
      hub: HubRef;
      shape: PlanShape;
      lora: LoraConfig | null;
      probe: { batch: number; seq: number };
    }
  /** Downloads a Hub model into the browser's cache, resuming what is there; `progress` in bytes. */
  | { type: 'downloadHub'; hub: HubRef }
  /** The models in the browser's cache and their sizes. */
  | { type: 'modelCache' }
  /** Deletes one model's files (its base URL) or all (null) from the cache. */
  | { type: 'deleteCached'; base: string | null }
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
  | { type: 'loadCheckpoint'; slot: CheckpointSlot; bytes: Uint8Array }
  /** Reward-model scores of answers to user messages. */
  | { type: 'rewardScore'; items: { prompt: string; response: string }[] }
  /** PPO from the SL-CAI policy against the reward model into the `rl` policy; streams
   * `metrics`, `samples` and `warning` events per iteration. */
  | { type: 'ppo'; prompts: string[]; config: PpoConfig; seed: number }
  /** DPO from the SL-CAI policy on labelled pairs into the `rl` policy (no reward model);
   * streams `metrics` per step and `eval/` metrics per epoch. */
  | {
      type: 'dpo';
      train: PreferencePair[];
      heldOut: PreferencePair[];
      config: DpoConfig;
      seed: number;
    }
  /** GRPO or RLOO from the SL-CAI policy against the reward model into the `rl` policy;
   * streams `metrics` and `samples` per iteration. */
  | { type: 'groupRl'; prompts: string[]; method: GroupMethod; seed: number }
  /** Total log-probability of each option as a policy's answer to one user message. */
  | { type: 'score'; prompt: string; options: string[]; policy?: PolicyName }
  /** Logits [T, V] of the policy for one text (row-major), for cross-backend checks. */
  | { type: 'forwardLogits'; text: string }
  | { type: 'crossCheck'; size: number; steps: number; seed: number }
  | { type: 'matmulBench'; sizes: number[]; reps: number; backends: BackendName[] }
  /** Times training steps of the loaded policy's architecture (fresh weights) per backend;
   * before any policy is loaded, the architecture of the model folder `model`. */
  | {
      type: 'trainBench';
      model?: string;
      backends: BackendName[];
      shapes: { batch: number; seq: number }[];
      steps: number;
      warmup: number;
    }
  /** Every fused kernel and its gradients on the active backend against stock ops on CPU, at
   * the named shapes ("tiny", "smollm2-layer"). */
  | { type: 'kernelCheck'; shapes: string[]; seed: number }
  /** Dispatches and time of a training step and a cached decode step, per backend and kernel
   * set, with fresh weights of the model folder `model`'s architecture or of `config`. */
  | ({ type: 'kernelBench'; backends: BackendName[]; shape: KernelBenchShape } & (
      { model: string } | { config: ModelConfig }
    ))
  | { type: 'memory' }
  /** Destroys the WebGPU device after `delayMs` (0: now), as a driver reset would. */
  | { type: 'loseDevice'; delayMs: number };

/** What each engine request resolves to. */
export interface EngineResults {
  init: BackendReport;
  loadPolicy: PolicyInfo;
  mergedPolicy: { bytes: Uint8Array };
  inspectHub: InspectResult;
  probeHub: { inspect: InspectResult; probe: ModelProbe };
  downloadHub: { bytes: number };
  modelCache: { models: CachedModel[] };
  deleteCached: { models: CachedModel[] };
  generate: GenerateResult;
  sft: SftRunResult;
  score: { logprobs: number[] };
  reward: RewardRunResult;
  loadCheckpoint: { slot: CheckpointSlot };
  rewardScore: { scores: number[] };
  ppo: PpoRunResult;
  dpo: DpoRunResult;
  groupRl: GroupRunResult;
  forwardLogits: { logits: number[]; tokens: number; vocab: number; backend: BackendName };
  crossCheck: CrossCheckResult;
  matmulBench: MatmulBenchResult;
  trainBench: { rows: TrainBenchRow[]; skipped: { backend: BackendName; reason: string }[] };
  kernelCheck: KernelCheckResult;
  kernelBench: { rows: KernelBenchRow[] };
  setKernels: BackendReport;
  memory: MemoryInfo;
  /** Whether there was an active WebGPU device to destroy. */
  loseDevice: { hadDevice: boolean };
}

export type FeedbackRequest =
  /** Sets up transformers.js and picks the device (`auto`, or a forced one, for tests). */
  | { type: 'init'; device?: FeedbackDevice | 'auto' }
  /** Loads /models/<id>/, or a Hub id from `endpoint` (default the Hugging Face Hub), with
   * its tokenizer and onnx/model.onnx, as the feedback model. */
  | { type: 'load'; model: string; endpoint?: string }
  /** Answers one user message; streams `token` events (index 0). */
  | { type: 'generate'; prompt: string; settings: GenerateSettings }
  /** Total log-probability of each option as the answer to one user message. */
  | { type: 'score'; prompt: string; options: string[] }
  /** Benchmark: greedy generation of `newTokens` for `batch` copies of one message. */
  | { type: 'benchGenerate'; prompt: string; batch: number; newTokens: number; useCache: boolean }
  /** Destroys ONNX Runtime's WebGPU device after `delayMs`, as a driver reset would (tests). */
  | { type: 'loseDevice'; delayMs: number };

export interface FeedbackResults {
  init: FeedbackReport;
  load: { id: string; device: FeedbackDevice };
  generate: { text: string; tokens: number; seconds: number; device: FeedbackDevice };
  score: { logprobs: number[] };
  benchGenerate: { tokens: number; seconds: number };
  loseDevice: { hadDevice: boolean };
}

/** A request as it travels: the payload plus its id (so no request has a field named `id`). */
export type Envelope<Req> = (Req & { id: number }) | { type: 'cancel'; id: number; target: number };

export type Reply<Result> =
  | { id: number; status: 'loading'; message: string }
  | { id: number; status: 'ready'; backend: BackendReport }
  /** The feedback runtime changed (its model moved to WASM after a GPU device loss). */
  | { id: number; status: 'feedback'; report: FeedbackReport }
  | { id: number; status: 'progress'; done: number; total: number; message: string }
  | { id: number; status: 'token'; text: string; index: number }
  /** A trainer's event, exactly as the trainer made it. */
  | { id: number; status: 'train'; event: TrainEvent }
  | { id: number; status: 'done'; result: Result }
  | { id: number; status: 'error'; message: string; cancelled: boolean };

/** Replies other than the final `done`/`error`: the event stream of a request. */
export type ReplyEvent = Exclude<Reply<unknown>, { status: 'done' } | { status: 'error' }>;
