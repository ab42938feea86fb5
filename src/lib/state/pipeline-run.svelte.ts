import type { PipelineEvent, StageName } from '../pipeline/events.ts';
import type { ExperimentReport, StageSet } from '../pipeline/run-experiment.ts';
import { runExperiment } from '../pipeline/run-experiment.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import { defaultExperiment } from './experiment.ts';

export type StepState = 'waiting' | 'running' | 'done' | 'stopped' | 'failed';

/** One step of a run as the page lists it ("evaluate base", "sft", …). */
export interface RunStep {
  label: string;
  stage: StageName;
  state: StepState;
  seconds: number | null;
}

const slSteps: [string, StageName][] = [
  ['evaluate base', 'evaluate'],
  ['generate', 'generate'],
  ['critique and revise', 'critique'],
  ['sft', 'sft'],
  ['evaluate sl', 'evaluate'],
];
const rlSteps: [string, StageName][] = [
  ['label', 'label'],
  ['reward', 'reward'],
  ['ppo', 'ppo'],
  ['evaluate rl', 'evaluate'],
];

/** The latest critique → revision chain, shown while SL-CAI runs. */
export interface ChainView {
  prompt: string;
  principle: string;
  critique: string;
  revision: string;
}

/**
 * A pipeline run of the default experiment, as the page shows it: steps with their state,
 * progress, the latest chain and metrics, warnings, and the final report. Holds no pipeline
 * logic: it starts `runExperiment` and folds its events into state.
 */
export class PipelineRun {
  steps = $state<RunStep[]>([]);
  running = $state(false);
  progress = $state<{ done: number; total: number; message: string } | null>(null);
  chain = $state<ChainView | null>(null);
  metrics = $state.raw<Partial<Record<StageName, Record<string, number>>>>({});
  warnings = $state<string[]>([]);
  report = $state.raw<ExperimentReport | null>(null);
  error = $state<string | null>(null);
  private controller: AbortController | null = null;
  private prompts: string[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly feedback: FeedbackClient,
    private readonly ready: Promise<unknown>,
  ) {}

  /** The state of a stage across its steps (for the recipe overview). */
  stageState(stage: StageName): StepState | null {
    const mine = this.steps.filter((s) => s.stage === stage);
    if (!mine.length) return null;
    for (const state of ['running', 'failed', 'stopped'] as const)
      if (mine.some((s) => s.state === state)) return state;
    return mine.every((s) => s.state === 'done') ? 'done' : 'waiting';
  }

  async start(stages: StageSet): Promise<void> {
    if (this.running) return;
    const experiment = defaultExperiment();
    this.prompts = experiment.prompts.redTeam;
    this.steps = [...slSteps, ...(stages === 'all' ? rlSteps : [])].map(([label, stage]) => ({
      label,
      stage,
      state: 'waiting',
      seconds: null,
    }));
    Object.assign(this, { report: null, error: null, chain: null, progress: null });
    this.metrics = {};
    this.warnings = [];
    this.running = true;
    this.controller = new AbortController();
    try {
      await this.ready;
      const { report } = await runExperiment(
        this.engine,
        this.feedback,
        experiment,
        stages,
        (e) => this.fold(e),
        this.controller.signal,
      );
      this.report = report;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const stopped = this.controller.signal.aborted;
      this.error = stopped ? 'Stopped. The finished steps keep their results.' : message;
      for (const s of this.steps)
        if (s.state === 'running') s.state = stopped ? 'stopped' : 'failed';
    } finally {
      this.running = false;
      this.progress = null;
      this.controller = null;
    }
  }

  stop(): void {
    this.controller?.abort();
  }

  private step(label: string): RunStep | undefined {
    return this.steps.find((s) => s.label === label);
  }

  private fold(e: PipelineEvent): void {
    switch (e.type) {
      case 'stage-start':
        this.step(e.label)!.state = 'running';
        this.progress = null;
        break;
      case 'stage-end': {
        const s = this.step(e.label)!;
        s.state = 'done';
        s.seconds = e.seconds;
        break;
      }
      case 'progress':
        this.progress = { done: e.done, total: e.total, message: e.message };
        break;
      case 'critique':
        this.chain = {
          prompt: this.prompts[e.index] ?? '',
          principle: e.principle,
          critique: e.text,
          revision: '',
        };
        break;
      case 'revision':
        if (this.chain) this.chain = { ...this.chain, revision: e.text };
        break;
      case 'metrics':
        this.metrics = {
          ...this.metrics,
          [e.stage]: { ...this.metrics[e.stage], ...e.values, step: e.step },
        };
        break;
      case 'warning':
        this.warnings = [...this.warnings, `PPO iteration ${e.step}: ${e.message}`];
        break;
    }
  }
}
