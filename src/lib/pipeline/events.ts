import type { CritiqueMode } from '../domain/modes.ts';
import type { PolicyName } from '../domain/policy.ts';
import type { EvalResult, PreferenceRecord } from '../domain/records.ts';
import type { TrainEvent } from '../domain/train-events.ts';
import { stepCatalog, type StageName, type StepId } from './steps.ts';

/**
 * What a running pipeline tells its watcher, in order. Every intermediate text is an event,
 * so the UI can show the whole chain and a run can be stored and replayed. A trainer's
 * events (metrics, samples, warnings, progress, streamed text) come through as the trainer
 * made them, with the stage; the other stages stream their text as the same `token` event.
 */
export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName; step: StepId }
  | { type: 'stage-end'; stage: StageName; step: StepId; seconds: number }
  | { type: 'progress'; stage: StageName; done: number; total: number; message: string }
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
  | (TrainEvent & { stage: StageName })
  | { type: 'eval'; policy: PolicyName; result: EvalResult };

export type EmitEvent = (event: PipelineEvent) => void;

/**
 * An event as stored or exported (untrusted, checked after this): runs saved before steps had
 * ids named the step of a `stage-start`/`stage-end` by its label ("critique and revise");
 * this gives such an event its id. Anything else comes back as it was.
 */
export function upgradeEvent(e: unknown): unknown {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return e;
  const stored = e as { type?: unknown; label?: unknown; step?: unknown };
  if (stored.type !== 'stage-start' && stored.type !== 'stage-end') return e;
  if ('step' in stored || typeof stored.label !== 'string') return e;
  const step = stepCatalog.find((s) => s.label === stored.label);
  if (!step) return e;
  const upgraded: Record<string, unknown> = { ...stored, step: step.id };
  delete upgraded.label;
  return upgraded;
}
