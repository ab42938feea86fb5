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

import type { BackendReport, FeedbackDevice, FeedbackReport } from '../domain/backend.ts';
import type { GenerateSettings } from '../domain/policy.ts';
import type { TrainEvent } from '../domain/train-events.ts';
import type { DiagnosticsRequest, DiagnosticsResults } from './protocol/diagnostics.ts';
import type { InferenceRequest, InferenceResults } from './protocol/inference.ts';
import type { ModelFileRequest, ModelFileResults } from './protocol/model-files.ts';
import type { TrainingRequest, TrainingResults } from './protocol/training.ts';

/** The engine's requests, by capability (protocol/, one file each, as workers/engine/ handles them). */
export type EngineRequest =
  DiagnosticsRequest | ModelFileRequest | InferenceRequest | TrainingRequest;

/** What each engine request resolves to. */
export type EngineResults = DiagnosticsResults &
  ModelFileResults &
  InferenceResults &
  TrainingResults;

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
