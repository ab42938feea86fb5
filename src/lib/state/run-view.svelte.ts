/**
 * What the page shows of a run, folded from the pipeline's events. Live runs and stored runs
 * (replayed from IndexedDB) go through the same `fold`, so a reload shows exactly what the
 * live page showed for every finished stage. Holds no pipeline logic.
 */
import type { CritiqueMode } from '../domain/modes.ts';
import type { PolicyName, PpoSample } from '../domain/policy.ts';
import type { EvalResult, PreferenceRecord } from '../domain/records.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import {
  stepById,
  stepsOf,
  type StageName,
  type StageSet,
  type StepId,
} from '../pipeline/steps.ts';

/** How many texts being written the page shows at once. */
const streamRows = 8;

export type StepState = 'waiting' | 'running' | 'done' | 'stopped' | 'failed';

/** One step of a run as the page lists it ("evaluate base", "sft", …). */
export interface RunStep {
  id: StepId;
  label: string;
  stage: StageName;
  state: StepState;
  seconds: number | null;
}

export interface ShownRound {
  principle: string;
  mode: CritiqueMode;
  critique: string;
  revision: string | null;
  /** The prompts the feedback model saw (for the CAI datasets' columns). */
  critiquePrompt: string;
  revisionPrompt: string | null;
}

/** A red-team training prompt's chain as shown: answer → (critique → revision) per round. */
export interface ShownChain {
  prompt: string;
  answer: string;
  rounds: ShownRound[];
}

export interface Progress {
  stage: StageName;
  done: number;
  total: number;
  message: string;
  /** Estimated seconds left, from the pace so far (null until there is a pace). */
  eta: number | null;
}

export interface MetricPoint {
  step: number;
  values: Record<string, number>;
}

export interface RunWarning {
  stage: StageName;
  step: number;
  message: string;
}

export class RunView {
  steps = $state<RunStep[]>([]);
  progress = $state<Progress | null>(null);
  /** Texts being streamed right now (tokens as they are generated), the newest `streamRows`
   * keys of the stage (a batch writes several at once: answers, PPO's rollouts). */
  streaming = $state<{ stage: StageName; rows: { key: string; text: string }[] } | null>(null);
  chains = $state<ShownChain[]>([]);
  /** The policy's answers to the ordinary training prompts (kept as they are in SFT). */
  ordinary = $state<{ prompt: string; text: string }[]>([]);
  preferences = $state<PreferenceRecord[]>([]);
  metrics = $state<Partial<Record<StageName, MetricPoint[]>>>({});
  ppoSamples = $state.raw<{ step: number; samples: PpoSample[] } | null>(null);
  warnings = $state<RunWarning[]>([]);
  evals = $state.raw<Partial<Record<PolicyName, EvalResult>>>({});
  // From the view's start: a download before the first step has its time left too.
  private stageStarted = performance.now();
  /** Red-team answers by prompt index (not shown by themselves, so not reactive). */
  private answers: Record<number, { prompt: string; text: string }> = {};

  constructor(stages: StageSet = 'all') {
    this.addSteps(stages);
  }

  /** Lists the steps of `stages` not listed yet (a run of SL-CAI going on to RL-CAI). */
  addSteps(stages: StageSet): void {
    const listed = this.steps.map((s) => s.id);
    for (const { id, label, stage } of stepsOf(stages))
      if (!listed.includes(id))
        this.steps.push({ id, label, stage, state: 'waiting', seconds: null });
  }

  /** Drops what a step showed before it starts again (a stopped step run once more). */
  private restart(id: StepId): void {
    switch (id) {
      case 'evaluate-base':
      case 'evaluate-sl':
      case 'evaluate-rl': {
        const policy = stepById(id).evaluates;
        this.evals = Object.fromEntries(Object.entries(this.evals).filter(([p]) => p !== policy));
        break;
      }
      case 'generate':
        this.chains = [];
        this.ordinary = [];
        this.answers = {};
        break;
      case 'critique':
        for (const chain of this.chains) chain.rounds = [];
        break;
      case 'label':
        this.preferences = [];
        break;
      case 'sft':
      case 'reward':
      case 'ppo':
        this.metrics[id] = [];
        this.warnings = this.warnings.filter((w) => w.stage !== id);
        if (id === 'ppo') this.ppoSamples = null;
        break;
    }
  }

  /** The state of a stage across its steps (for the recipe overview). */
  stageState(stage: StageName): StepState | null {
    const mine = this.steps.filter((s) => s.stage === stage);
    if (!mine.length) return null;
    for (const state of ['running', 'failed', 'stopped'] as const)
      if (mine.some((s) => s.state === state)) return state;
    // Evaluation runs after several stages: done as soon as one of its steps is.
    return mine.some((s) => s.state === 'done') ? 'done' : 'waiting';
  }

  /** Marks the running step stopped or failed (the run ended early). */
  end(how: 'stopped' | 'failed'): void {
    for (const s of this.steps) if (s.state === 'running') s.state = how;
    this.progress = null;
    this.streaming = null;
  }

  fold(e: PipelineEvent, now = performance.now()): void {
    switch (e.type) {
      case 'stage-start': {
        const s = this.steps.find((x) => x.id === e.step);
        if (s) s.state = 'running';
        this.restart(e.step);
        this.progress = null;
        this.stageStarted = now;
        break;
      }
      case 'stage-end': {
        const s = this.steps.find((x) => x.id === e.step);
        if (s) Object.assign(s, { state: 'done', seconds: e.seconds });
        this.progress = null;
        this.streaming = null;
        break;
      }
      case 'progress': {
        const elapsed = (now - this.stageStarted) / 1000;
        const eta = e.done > 0 && e.done < e.total ? (elapsed / e.done) * (e.total - e.done) : null;
        this.progress = { stage: e.stage, done: e.done, total: e.total, message: e.message, eta };
        break;
      }
      case 'token': {
        if (this.streaming?.stage !== e.stage) this.streaming = { stage: e.stage, rows: [] };
        const rows = this.streaming.rows;
        const row = rows.find((r) => r.key === e.key);
        if (row) row.text += e.delta;
        else {
          rows.push({ key: e.key, text: e.delta });
          if (rows.length > streamRows) rows.shift();
        }
        break;
      }
      case 'answer':
        if (e.kind === 'red-team') {
          this.answers[e.index] = { prompt: e.prompt, text: e.text };
          this.chains[e.index] = { prompt: e.prompt, answer: e.text, rounds: [] };
        } else this.ordinary.push({ prompt: e.prompt, text: e.text });
        break;
      case 'critique': {
        const chain = this.chainAt(e.index);
        chain.rounds[e.round] = {
          principle: e.principle,
          mode: e.mode,
          critique: e.text,
          revision: null,
          critiquePrompt: e.critiquePrompt,
          revisionPrompt: null,
        };
        break;
      }
      case 'revision': {
        const round = this.chainAt(e.index).rounds[e.round];
        if (round) Object.assign(round, { revision: e.text, revisionPrompt: e.revisionPrompt });
        break;
      }
      case 'preference':
        this.preferences.push(e.record);
        break;
      case 'metrics':
        // Read back through the state proxy (`??=` would hand back the raw array).
        if (!this.metrics[e.stage]) this.metrics[e.stage] = [];
        this.metrics[e.stage]!.push({ step: e.step, values: e.values });
        break;
      case 'samples':
        this.ppoSamples = { step: e.step, samples: e.samples };
        break;
      case 'warning':
        this.warnings.push({ stage: e.stage, step: e.step, message: e.message });
        break;
      case 'eval':
        this.evals = { ...this.evals, [e.policy]: e.result };
        break;
    }
  }

  private chainAt(index: number): ShownChain {
    const answer = this.answers[index];
    if (!this.chains[index])
      this.chains[index] = { prompt: answer?.prompt ?? '', answer: answer?.text ?? '', rounds: [] };
    return this.chains[index]!;
  }
}
