/**
 * What the page shows of a run, reactive: the data of runs/run-fold.ts in `$state`, written
 * only by its reducer (`fold`), so live and stored runs show the same.
 */
import type { PolicyName } from '../domain/policy.ts';
import type { EvalResult, PreferenceRecord } from '../domain/records.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import type { StageName, StageSet } from '../pipeline/steps.ts';
import {
  addSteps,
  endRun,
  foldEvent,
  stageState,
  type MetricPoint,
  type Progress,
  type RunData,
  type RunStep,
  type RunWarning,
  type ShownChain,
  type StepState,
} from '../runs/run-fold.ts';

export class RunView implements RunData {
  steps = $state<RunStep[]>([]);
  progress = $state<Progress | null>(null);
  streaming = $state<RunData['streaming']>(null);
  chains = $state<ShownChain[]>([]);
  ordinary = $state<{ prompt: string; text: string }[]>([]);
  preferences = $state<PreferenceRecord[]>([]);
  metrics = $state<Partial<Record<StageName, MetricPoint[]>>>({});
  ppoSamples = $state.raw<RunData['ppoSamples']>(null);
  warnings = $state<RunWarning[]>([]);
  evals = $state.raw<Partial<Record<PolicyName, EvalResult>>>({});
  stageStarted = performance.now();
  answers: RunData['answers'] = {};

  constructor(stages: StageSet = 'all') {
    this.addSteps(stages);
  }

  /** Lists the steps of `stages` not listed yet (a run of SL-CAI going on to RL-CAI). */
  addSteps(stages: StageSet): void {
    addSteps(this, stages);
  }

  /** The state of a stage across its steps (for the recipe overview). */
  stageState(stage: StageName): StepState | null {
    return stageState(this, stage);
  }

  /** Marks the running step stopped or failed (the run ended early). */
  end(how: 'stopped' | 'failed'): void {
    endRun(this, how);
  }

  fold(e: PipelineEvent, now = performance.now()): void {
    foldEvent(this, e, now);
  }
}
