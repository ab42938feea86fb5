import { describeError } from '../domain/errors.ts';
import type { RlMethod } from '../domain/modes.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import { runExperiment, type Checkpoints, type RunUntil } from '../pipeline/run-experiment.ts';
import type { CheckpointSlot } from '../domain/policy.ts';
import {
  pendingStep,
  slStepCount,
  type RunStep,
  type StageSet,
  type StepOutputs,
} from '../pipeline/steps.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type { ExperimentDraft } from './experiment-draft.svelte.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { runFile, type RunFile } from '../runs/exports.ts';
import { RunView } from './run-view.svelte.ts';
import { savedHubEndpoint } from '../model/checkpoints/hub-endpoint.ts';
import { TokenBatch } from '../runs/token-batch.ts';
import type { RunMeta, RunStore } from '../runs/run-store.ts';
import { readOutputs, storeImport, type UnreadableRun } from '../runs/stored-runs.ts';
import { SavedRuns } from './saved-runs.svelte.ts';

/** Events are written to IndexedDB in chunks, at least this often while a run goes on. */
const flushEveryMs = 1000;

/**
 * A run of the edited experiment: starts `runExperiment`, folds its events into a RunView,
 * and stores them (and the report and checkpoints) as they come, so a reload restores every
 * finished stage. Also reopens stored runs. Holds no pipeline logic.
 */
export class PipelineRun {
  #view = $state<RunView>(new RunView('all'));
  get view() {
    return this.#view;
  }
  #running = $state(false);
  get running() {
    return this.#running;
  }
  #error = $state<string | null>(null);
  get error() {
    return this.#error;
  }
  #meta = $state.raw<RunMeta | null>(null);
  get meta() {
    return this.#meta;
  }
  /** A stored run that could not be opened (the page offers export and delete, so nothing
   * is lost and the page stays usable). */
  #unreadable = $state.raw<UnreadableRun | null>(null);
  get unreadable() {
    return this.#unreadable;
  }

  /** Hides the notice of a stored run that could not be opened (it stays stored). */
  dismissUnreadable(): void {
    this.#unreadable = null;
  }
  /** What the shown run's finished steps produced (null if unknown, e.g. an imported run). */
  private outputs = $state.raw<StepOutputs | null>(null);
  private controller: AbortController | null = null;
  /** The shown run's events (token deltas left out), for exports. */
  private events: PipelineEvent[] = [];
  private pending: PipelineEvent[] = [];
  private lastFlush = 0;
  /** Streamed text not shown yet. */
  private readonly tokens = new TokenBatch((tokens) => tokens.forEach((t) => this.view.fold(t)));

  constructor(
    readonly engine: EngineClient,
    private readonly feedback: FeedbackClient,
    private readonly ready: Promise<unknown>,
    private readonly draft: ExperimentDraft,
    readonly store: RunStore | null,
  ) {
    this.saved = new SavedRuns(store);
  }

  /** The runs kept in this browser, listed and read back. */
  readonly saved: SavedRuns;

  /** Reopens the newest stored run (after a reload) and lists the others; if the newest is
   * damaged, says so and shows the defaults. */
  async restore(): Promise<void> {
    await this.saved.refresh();
    const valid = this.saved.runs[0];
    const damaged = this.saved.damaged[0];
    const newest = damaged && (!valid || damaged.created >= valid.created) ? damaged : valid;
    if (newest) await this.open(newest.id);
  }

  /** Shows a stored run as it was when it was last saved; one that does not pass the check
   * is named in `unreadable` (to export or delete) and the page shows no run instead. */
  async open(id: string): Promise<void> {
    if (this.running) return;
    const read = await this.saved.read(id);
    if (!read) return;
    if (!read.ok) {
      this.clearShown();
      this.#unreadable = read.unreadable;
      await this.saved.refresh();
      return;
    }
    const { meta } = read;
    this.#unreadable = null;
    ({ meta: this.#meta, events: this.events, view: this.#view } = read);
    const outputs = readOutputs(
      await this.saved.stored(() => this.store!.getOutputs(id), undefined),
    );
    this.outputs = outputs.ok ? outputs.value : null;
    this.#error = !outputs.ok
      ? outputs.message
      : meta.status === 'running'
        ? 'The page was reloaded during this run: the finished steps are kept; Continue goes on from the first unfinished one.'
        : meta.error;
  }

  /** Shows no run (the page's defaults). */
  clearShown(): void {
    this.#meta = null;
    this.outputs = null;
    this.events = [];
    this.#view = new RunView('all');
    this.#error = null;
  }

  /** Deletes a stored run (the shown one too: the page then shows none). */
  async remove(id: string): Promise<void> {
    if (!this.store) return;
    await this.saved.remove(id);
    if (this.meta?.id === id) this.clearShown();
    if (this.unreadable?.id === id) this.#unreadable = null;
  }

  /** Starts a new run of the edited experiment: SL-CAI, the whole recipe, or its first step. */
  async start(until: StageSet | 'step'): Promise<void> {
    if (this.running) return;
    const checked = this.draft.checked();
    if (!checked.ok) {
      this.#error = `The experiment has problems to fix first: ${checked.message}.`;
      return;
    }
    const experiment: Experiment = checked.experiment;
    const stages = until === 'sl' ? 'sl' : 'all';
    this.#view = new RunView(stages, experiment.stages.rl.method);
    this.events = [];
    this.outputs = null;
    const meta: RunMeta = {
      id: `run-${Date.now().toString(36)}`,
      name: experiment.name || 'Untitled experiment',
      created: Date.now(),
      stages,
      status: 'running',
      experiment,
      report: null,
      error: null,
    };
    await this.execute(meta, until === 'step' ? { end: 1 } : until, null);
  }

  /** The RL-CAI method of the shown run, or of the edited experiment when none is shown. */
  get method(): RlMethod {
    return (this.meta?.experiment ?? this.draft.experiment).stages.rl.method;
  }

  /** The shown run's next step (null when it has none or cannot go on: e.g. an imported run). */
  get nextStep(): RunStep | null {
    if (!this.outputs || this.running || !this.meta) return null;
    return pendingStep(this.outputs, 'all', this.method)?.step ?? null;
  }

  /** Goes on with the shown run from its first unfinished step: one step, or to the end. */
  async continueRun(how: 'step' | 'rest'): Promise<void> {
    const meta = this.meta;
    if (this.running || !meta || !this.outputs) return;
    const pending = pendingStep(this.outputs, 'all', meta.experiment.stages.rl.method);
    if (!pending) return;
    const next = pending.index;
    const checkpoints = await this.saved.stored(() => this.store?.getCheckpoints(meta.id), {});
    await this.execute(
      { ...meta, stages: next >= slStepCount || how === 'rest' ? 'all' : meta.stages },
      how === 'step' ? { end: next + 1 } : 'all',
      { outputs: this.outputs, checkpoints },
    );
  }

  /** Runs `meta`'s experiment up to `until` (going on from `from`), storing each step. */
  private async execute(
    meta: RunMeta,
    until: RunUntil,
    from: { outputs: StepOutputs; checkpoints: Checkpoints } | null,
  ): Promise<void> {
    this.view.addSteps(meta.stages);
    this.#error = null;
    this.#running = true;
    this.controller = new AbortController();
    const running: RunMeta = { ...meta, status: 'running', error: null };
    this.#meta = running;
    await this.saveMeta(running);
    await this.saved.refresh();
    try {
      await this.ready;
      const { report, outputs } = await runExperiment(
        this.engine,
        this.feedback,
        meta.experiment,
        until,
        (e) => this.onEvent(e),
        this.controller.signal,
        {
          ...(from && { from }),
          hubEndpoint: savedHubEndpoint(),
          download: true,
          onStep: async (outputs, checkpoints, report) => {
            this.outputs = outputs;
            const withReport: RunMeta = { ...this.meta!, report };
            this.#meta = withReport;
            await this.saveMeta(withReport);
            await this.flush();
            await this.saved.stored(() => this.store?.putOutputs(meta.id, outputs), undefined);
            for (const [slot, bytes] of Object.entries(checkpoints) as [
              CheckpointSlot,
              Uint8Array,
            ][])
              if (bytes !== from?.checkpoints[slot])
                await this.saved.stored(
                  () => this.store?.putCheckpoint(meta.id, slot, bytes),
                  undefined,
                );
          },
        },
      );
      const done = !pendingStep(outputs, meta.stages, meta.experiment.stages.rl.method);
      this.#meta = { ...meta, status: done ? 'finished' : 'stopped', report, error: null };
    } catch (error) {
      const stopped = this.controller.signal.aborted;
      const message = describeError(error);
      this.#error = stopped ? 'Stopped. The finished steps keep their results.' : message;
      this.view.end(stopped ? 'stopped' : 'failed');
      await this.flush();
      this.#meta = { ...this.meta!, status: stopped ? 'stopped' : 'failed', error: this.#error };
    } finally {
      this.tokens.flush();
      this.view.streaming = null;
      this.#running = false;
      this.controller = null;
      await this.saveMeta(this.meta!);
      await this.saved.refresh();
    }
  }

  /** The shown run as an export file (null before any run). */
  exportFile(): RunFile | null {
    return this.meta ? runFile(this.meta, this.events) : null;
  }

  /** Stores an imported run as a new run and shows it; returns an error message or null. */
  async importFile(text: string): Promise<string | null> {
    if (this.running) return 'Wait for the current run to finish.';
    const stored = await storeImport(this.store, text);
    if (!stored.ok) return stored.message;
    await this.saved.refresh();
    await this.open(stored.id);
    return null;
  }

  stop(): void {
    this.controller?.abort();
  }

  private onEvent(e: PipelineEvent): void {
    // Streamed text is shown in batches, and kept only in its final form.
    if (e.type === 'token') return this.tokens.add(e);
    this.tokens.flush();
    this.view.fold(e);
    this.pending.push(e);
    this.events.push(e);
    const now = performance.now();
    if (e.type === 'stage-end' || now - this.lastFlush > flushEveryMs) void this.flush();
  }

  private async flush(): Promise<void> {
    this.lastFlush = performance.now();
    const events = this.pending;
    this.pending = [];
    const id = this.meta?.id;
    if (id) await this.saved.stored(() => this.store?.appendEvents(id, events), undefined);
  }

  private async saveMeta(meta: RunMeta): Promise<void> {
    await this.saved.stored(() => this.store?.saveRun(meta), undefined);
  }
}
