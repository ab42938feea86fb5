/**
 * What a trainer reports while it runs. The trainer makes each event once; the engine worker
 * sends it as it is, the port hands it on, and the pipeline adds only the stage's name.
 * A leaf module (it imports only leaves).
 */
import type { PpoSample } from './policy.ts';

export type TrainEvent =
  /** Metrics of one step (SFT, reward model) or iteration (PPO), under TRL's names. */
  | { type: 'metrics'; step: number; values: Record<string, number> }
  /** PPO's rollouts of one iteration with their scores. */
  | { type: 'samples'; step: number; samples: PpoSample[] }
  /** Something a student should look at (negative KL, entropy collapse…). */
  | { type: 'warning'; step: number; message: string }
  /** Steps (or iterations) done of the run's total: the page's progress bar and time left. */
  | { type: 'progress'; done: number; total: number; message: string }
  /** Text as it is written (`key` names which text: a PPO rollout, an answer), never stored. */
  | { type: 'token'; key: string; delta: string };

export type OnTrainEvent = (event: TrainEvent) => void;

/** A trainer's progress event: `unit`s done of `total` ("step 3 of 40"). */
export const progressEvent = (done: number, total: number, unit: 'step' | 'iteration') =>
  ({ type: 'progress', done, total, message: `${unit} ${done} of ${total}` }) as const;

/** What a trainer gets from the job that runs it: where its events go, and a checkpoint it
 * awaits between steps (it throws to cancel). */
export interface TrainHooks {
  onEvent: OnTrainEvent;
  checkpoint: () => Promise<void>;
}
