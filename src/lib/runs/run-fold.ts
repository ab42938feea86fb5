/**
 * What a run shows, folded from the pipeline's events: the one reducer. Live runs and stored
 * runs (replayed from IndexedDB, or read from an exported file by a Node script) go through
 * the same `foldEvent`, so a reload shows exactly what the live page showed for every finished
 * stage. Plain TypeScript: the page's reactive `RunView` (state/run-view.svelte.ts) and the
 * plain `RunRecord` below both hold a `RunData` and call these functions. No pipeline logic.
 */
import type { RlMethod } from '../domain/modes.ts';
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

/** Everything a run shows; `foldEvent` is the only writer. */
export interface RunData {
  steps: RunStep[];
  progress: Progress | null;
  /** Texts being streamed right now (tokens as they are generated), the newest `streamRows`
   * keys of the stage (a batch writes several at once: answers, PPO's rollouts). */
  streaming: { stage: StageName; rows: { key: string; text: string }[] } | null;
  chains: ShownChain[];
  /** The policy's answers to the ordinary training prompts (kept as they are in SFT). */
  ordinary: { prompt: string; text: string }[];
  preferences: PreferenceRecord[];
  metrics: Partial<Record<StageName, MetricPoint[]>>;
  ppoSamples: { step: number; samples: PpoSample[] } | null;
  warnings: RunWarning[];
  evals: Partial<Record<PolicyName, EvalResult>>;
  /** When the running step started (ms; from the view's start, so that a download before the
   * first step has its time left too). */
  stageStarted: number;
  /** Red-team answers by prompt index (not shown by themselves). */
  answers: Record<number, { prompt: string; text: string }>;
}

/** Lists the steps of `stages` (RL-CAI's by `method`) not listed yet (a run of SL-CAI going
 * on to RL-CAI). */
export function addSteps(run: RunData, stages: StageSet, method: RlMethod): void {
  const listed = run.steps.map((s) => s.id);
  for (const { id, label, stage } of stepsOf(stages, method))
    if (!listed.includes(id)) run.steps.push({ id, label, stage, state: 'waiting', seconds: null });
}

/** The state of a stage across its steps (for the recipe overview). */
export function stageState(run: RunData, stage: StageName): StepState | null {
  const mine = run.steps.filter((s) => s.stage === stage);
  if (!mine.length) return null;
  for (const state of ['running', 'failed', 'stopped'] as const)
    if (mine.some((s) => s.state === state)) return state;
  // Evaluation runs after several stages: done as soon as one of its steps is.
  return mine.some((s) => s.state === 'done') ? 'done' : 'waiting';
}

/** Marks the running step stopped or failed (the run ended early). */
export function endRun(run: RunData, how: 'stopped' | 'failed'): void {
  for (const s of run.steps) if (s.state === 'running') s.state = how;
  run.progress = null;
  run.streaming = null;
}

/** Drops what a step showed before it starts again (a stopped step run once more). */
function restart(run: RunData, id: StepId): void {
  switch (id) {
    case 'evaluate-base':
    case 'evaluate-sl':
    case 'evaluate-rl': {
      const policy = stepById(id).evaluates;
      run.evals = Object.fromEntries(Object.entries(run.evals).filter(([p]) => p !== policy));
      break;
    }
    case 'generate':
      run.chains = [];
      run.ordinary = [];
      run.answers = {};
      break;
    case 'critique':
      for (const chain of run.chains) chain.rounds = [];
      break;
    case 'label':
      run.preferences = [];
      break;
    case 'sft':
    case 'reward':
    case 'ppo':
    case 'dpo':
    case 'grpo':
    case 'rloo':
      run.metrics[id] = [];
      run.warnings = run.warnings.filter((w) => w.stage !== id);
      // The sampled answers shown are those of the method running now.
      run.ppoSamples = null;
      break;
  }
}

function chainAt(run: RunData, index: number): ShownChain {
  const answer = run.answers[index];
  if (!run.chains[index])
    run.chains[index] = { prompt: answer?.prompt ?? '', answer: answer?.text ?? '', rounds: [] };
  return run.chains[index]!;
}

/** Folds one pipeline event into what the run shows; `now` in ms (for the time left). */
export function foldEvent(run: RunData, e: PipelineEvent, now: number): void {
  switch (e.type) {
    case 'stage-start': {
      const s = run.steps.find((x) => x.id === e.step);
      if (s) s.state = 'running';
      restart(run, e.step);
      run.progress = null;
      run.stageStarted = now;
      break;
    }
    case 'stage-end': {
      const s = run.steps.find((x) => x.id === e.step);
      if (s) Object.assign(s, { state: 'done', seconds: e.seconds });
      run.progress = null;
      run.streaming = null;
      break;
    }
    case 'progress': {
      const elapsed = (now - run.stageStarted) / 1000;
      const eta = e.done > 0 && e.done < e.total ? (elapsed / e.done) * (e.total - e.done) : null;
      run.progress = { stage: e.stage, done: e.done, total: e.total, message: e.message, eta };
      break;
    }
    case 'token': {
      if (run.streaming?.stage !== e.stage) run.streaming = { stage: e.stage, rows: [] };
      const rows = run.streaming.rows;
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
        run.answers[e.index] = { prompt: e.prompt, text: e.text };
        run.chains[e.index] = { prompt: e.prompt, answer: e.text, rounds: [] };
      } else run.ordinary.push({ prompt: e.prompt, text: e.text });
      break;
    case 'critique':
      chainAt(run, e.index).rounds[e.round] = {
        principle: e.principle,
        mode: e.mode,
        critique: e.text,
        revision: null,
        critiquePrompt: e.critiquePrompt,
        revisionPrompt: null,
      };
      break;
    case 'revision': {
      const round = chainAt(run, e.index).rounds[e.round];
      if (round) Object.assign(round, { revision: e.text, revisionPrompt: e.revisionPrompt });
      break;
    }
    case 'preference':
      run.preferences.push(e.record);
      break;
    case 'metrics':
      // Read back through the holder (a reactive one hands out its proxy, not `??=`'s array).
      if (!run.metrics[e.stage]) run.metrics[e.stage] = [];
      run.metrics[e.stage]!.push({ step: e.step, values: e.values });
      break;
    case 'samples':
      run.ppoSamples = { step: e.step, samples: e.samples };
      break;
    case 'warning':
      run.warnings.push({ stage: e.stage, step: e.step, message: e.message });
      break;
    case 'eval':
      run.evals = { ...run.evals, [e.policy]: e.result };
      break;
  }
}

/** A run's view as plain data (Node scripts, exports, tests): `RunView` without reactivity. */
export class RunRecord implements RunData {
  steps: RunStep[] = [];
  progress: Progress | null = null;
  streaming: RunData['streaming'] = null;
  chains: ShownChain[] = [];
  ordinary: { prompt: string; text: string }[] = [];
  preferences: PreferenceRecord[] = [];
  metrics: Partial<Record<StageName, MetricPoint[]>> = {};
  ppoSamples: RunData['ppoSamples'] = null;
  warnings: RunWarning[] = [];
  evals: Partial<Record<PolicyName, EvalResult>> = {};
  stageStarted = 0;
  answers: Record<number, { prompt: string; text: string }> = {};

  constructor(stages: StageSet = 'all', method: RlMethod = 'ppo') {
    addSteps(this, stages, method);
  }

  fold(e: PipelineEvent, now = 0): void {
    foldEvent(this, e, now);
  }

  end(how: 'stopped' | 'failed'): void {
    endRun(this, how);
  }
}
