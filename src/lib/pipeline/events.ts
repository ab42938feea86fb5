import type { PolicyName, PpoSample } from '../workers/protocol.ts';
import type { PreferenceRecord } from './label.ts';
import type { CritiqueMode } from './config.ts';
import type { EvalResult } from './evaluate.ts';

export type StageName = 'generate' | 'critique' | 'sft' | 'label' | 'reward' | 'ppo' | 'evaluate';

/**
 * What a running pipeline tells its watcher, in order. Every intermediate text is an event,
 * so the UI can show the whole chain and a run can be stored and replayed.
 */
export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName; label: string }
  | { type: 'stage-end'; stage: StageName; label: string; seconds: number }
  | { type: 'progress'; stage: StageName; done: number; total: number; message: string }
  /** Streamed text of the answer or feedback being written (`key` names which text). */
  | { type: 'token'; stage: StageName; key: string; delta: string }
  /** The policy's initial answer to a training prompt. */
  | { type: 'answer'; index: number; kind: 'red-team' | 'ordinary'; prompt: string; text: string }
  | {
      type: 'critique';
      index: number;
      round: number;
      principle: string;
      mode: CritiqueMode;
      /** The full prompt the feedback model saw. */
      critiquePrompt: string;
      text: string;
    }
  | { type: 'revision'; index: number; round: number; revisionPrompt: string; text: string }
  | { type: 'preference'; index: number; record: PreferenceRecord }
  | { type: 'metrics'; stage: StageName; step: number; values: Record<string, number> }
  | { type: 'samples'; stage: 'ppo'; step: number; samples: PpoSample[] }
  | { type: 'warning'; stage: StageName; step: number; message: string }
  | { type: 'eval'; policy: PolicyName; result: EvalResult };

export type EmitEvent = (event: PipelineEvent) => void;
