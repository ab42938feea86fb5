/**
 * What the page shows of a run, reactive: the data of runs/run-fold.ts in `$state`, written
 * only by its reducer (`fold`), so live and stored runs show the same.
 */
import type { RlMethod } from '../domain/modes.ts';
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
  #steps = $state<RunStep[]>([]);
  get steps() {
    return this.#steps;
  }
  set steps(value) {
    this.#steps = value;
  }
  #progress = $state<Progress | null>(null);
  get progress() {
    return this.#progress;
  }
  set progress(value) {
    this.#progress = value;
  }
  #streaming = $state<RunData['streaming']>(null);
  get streaming() {
    return this.#streaming;
  }
  set streaming(value) {
    this.#streaming = value;
  }
  #chains = $state<ShownChain[]>([]);
  get chains() {
    return this.#chains;
  }
  set chains(value) {
    this.#chains = value;
  }
  #ordinary = $state<{ prompt: string; text: string }[]>([]);
  get ordinary() {
    return this.#ordinary;
  }
  set ordinary(value) {
    this.#ordinary = value;
  }
  #preferences = $state<PreferenceRecord[]>([]);
  get preferences() {
    return this.#preferences;
  }
  set preferences(value) {
    this.#preferences = value;
  }
  #metrics = $state<Partial<Record<StageName, MetricPoint[]>>>({});
  get metrics() {
    return this.#metrics;
  }
  set metrics(value) {
    this.#metrics = value;
  }
  #ppoSamples = $state.raw<RunData['ppoSamples']>(null);
  get ppoSamples() {
    return this.#ppoSamples;
  }
  set ppoSamples(value) {
    this.#ppoSamples = value;
  }
  #warnings = $state<RunWarning[]>([]);
  get warnings() {
    return this.#warnings;
  }
  set warnings(value) {
    this.#warnings = value;
  }
  #evals = $state.raw<Partial<Record<PolicyName, EvalResult>>>({});
  get evals() {
    return this.#evals;
  }
  set evals(value) {
    this.#evals = value;
  }
  stageStarted = performance.now();
  answers: RunData['answers'] = {};

  constructor(
    stages: StageSet = 'all',
    private readonly method: RlMethod = 'ppo',
  ) {
    this.addSteps(stages);
  }

  /** Lists the steps of `stages` not listed yet (a run of SL-CAI going on to RL-CAI). */
  addSteps(stages: StageSet): void {
    addSteps(this, stages, this.method);
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
