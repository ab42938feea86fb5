/**
 * The one check of untrusted runs: an imported run file, and a run read back from IndexedDB
 * (a record another version wrote, or one damaged by hand). Every field of the run's record,
 * its report, each event and the stored step outputs is checked with its path, and the
 * events against the run's own experiment (an answer's index within its prompts, a round
 * within the critique rounds), before anything is folded or drawn. A run that fails says
 * exactly where; past this check it is typed data the page can trust.
 */
import {
  checkShape,
  list,
  nullable,
  number,
  object,
  oneOf,
  optional,
  Problems,
  record,
  refine,
  text,
  type Shape,
} from '../config/shape.ts';
import type { ExperimentReport } from '../pipeline/run-report.ts';
import { labels } from '../domain/labels.ts';
import { rlMethods } from '../domain/modes.ts';
import { upgradeEvent, type PipelineEvent } from '../pipeline/events.ts';
import { heldOutPrompts } from '../pipeline/evaluate.ts';
import { trainingPrompts } from '../pipeline/sl-cai-steps.ts';
import { stepById, type StepOutputs } from '../pipeline/steps.ts';
import {
  aiJudge,
  evalResult,
  judgeFigures,
  labelRates,
  measured,
  pipelineEvent,
  preferenceRecord,
  rate,
  seconds,
  whole,
} from './event-shapes.ts';
import { validateExperiment } from '../experiment/experiment-check.ts';
import type { Experiment } from '../experiment/experiment.ts';
import type { RunMeta } from './run-store.ts';

/** The experiment's own check, its paths under the experiment's field. */
const experiment: Shape<Experiment> = {
  check(v, path, p) {
    const checked = validateExperiment(v);
    if (checked.ok) return checked.experiment;
    // Its own paths are relative to the experiment ("experiment" is the experiment itself).
    for (const e of checked.errors)
      p.add(e.path === 'experiment' || !e.path ? path : `${path}.${e.path}`, e.message);
    return undefined;
  },
};

const scores = object({
  harmlessness: rate,
  helpfulness: rate,
  evasiveness: rate,
  redTeam: labelRates,
  ordinary: labelRates,
  judge: optional(text()),
  aiJudge: optional(aiJudge),
  worldFigures: optional(judgeFigures),
  reward: optional(measured),
});

/** A stage's numbers in the report: its seconds, then whatever it counts. */
const stageNumbers = refine(record(measured, { maxKeys: 20 }), (o) =>
  'seconds' in o ? null : 'must have its seconds',
) as Shape<{ seconds: number } & Record<string, number>>;

const onlineSummary = object({ score_first: measured, score_last: measured, iterations: whole });

export const report: Shape<ExperimentReport> = object({
  eval: object({ base: scores, sl: scores, rl: optional(scores) }),
  reward: optional(object({ accuracy: measured, margin: measured, pairs: whole })),
  method: optional(oneOf(rlMethods)),
  ppo: optional(onlineSummary),
  grpo: optional(onlineSummary),
  rloo: optional(onlineSummary),
  dpo: optional(
    object({ accuracy: measured, margin: measured, loss: measured, steps: whole, pairs: whole }),
  ),
  stages: record(stageNumbers, { maxKeys: 20 }),
  revisions: nullable(
    object({
      judge: optional(oneOf(['world', 'ai'])),
      answers: labelRates,
      rounds: list(labelRates, { max: 100 }),
    }),
  ),
  samples: list(
    object({
      prompt: text(),
      answer: text(),
      principle: text(),
      critique: text(),
      revision: text(),
    }),
    { max: 100 },
  ),
  backend: text({ max: 200 }),
});

export const runMeta: Shape<RunMeta> = object({
  id: text({ max: 100, nonEmpty: true }),
  name: text({ max: 1000 }),
  created: number({ min: 0 }),
  stages: oneOf(['sl', 'all']),
  status: oneOf(['running', 'finished', 'stopped', 'failed']),
  experiment,
  report: nullable(report),
  error: nullable(text({ max: 10_000 })),
});

const backendName = text({ max: 40 });
const roundShape = object({
  principle: text(),
  critiquePrompt: text(),
  critique: text(),
  revisionPrompt: text(),
  revision: text(),
});
const rewardStats = object({
  loss: measured,
  accuracy: measured,
  margin: measured,
  min_reward: measured,
  max_reward: measured,
  mean_reward: measured,
});

const onlineRun = object({
  iterations: whole,
  scoreFirst: measured,
  scoreLast: measured,
  seconds,
  peakBytes: optional(measured),
});

/** What a run's finished steps produced, as stored beside it (so it can go on). */
export const stepOutputs: Shape<StepOutputs> = object({
  evalBase: optional(evalResult),
  answers: optional(
    object({
      redTeam: list(text()),
      ordinary: list(object({ prompt: text(), text: text() })),
    }),
  ),
  chains: optional(
    list(object({ prompt: text(), answer: text(), rounds: list(roundShape, { max: 100 }) })),
  ),
  revisionLabels: optional(
    object({ answers: list(oneOf(labels)), rounds: list(list(oneOf(labels)), { max: 100 }) }),
  ),
  sft: optional(
    object({
      steps: whole,
      trainLoss: measured,
      evalLoss: list(measured),
      seconds,
      backend: backendName,
      examples: whole,
      heldOutExamples: whole,
    }) as Shape<NonNullable<StepOutputs['sft']>>,
  ),
  evalSl: optional(evalResult),
  preferences: optional(list(preferenceRecord)),
  reward: optional(
    object({
      steps: whole,
      eval: list(rewardStats),
      seconds,
      train: whole,
      heldOut: whole,
    }),
  ),
  ppo: optional(onlineRun),
  grpo: optional(onlineRun),
  rloo: optional(onlineRun),
  dpo: optional(
    object({
      steps: whole,
      eval: list(record(measured, { maxKeys: 40 })),
      seconds,
      peakBytes: optional(measured),
      train: whole,
      heldOut: whole,
    }),
  ),
  evalRl: optional(evalResult),
  meanReward: optional(object({ base: measured, sl: measured, rl: measured })),
  seconds: record(seconds, { maxKeys: 20 }),
});

/** A problem of one field of an event: the field and what is wrong. */
type Problem = [field: string, message: string] | null;

/** What the run's own experiment says an event must hold: its index within the prompts and
 * rounds, the prompt it names the one at that index, an evaluation's prompts the held-out
 * ones in order (so two answers can never claim one prompt). */
function againstExperiment(e: PipelineEvent, x: Experiment): Problem {
  const red = x.prompts.redTeam.length;
  const within = (field: string, value: number, count: number, things: string): Problem =>
    value < count ? null : [field, `is ${value}; this run's experiment has ${count} ${things}`];
  switch (e.type) {
    case 'stage-start':
    case 'stage-end':
      return stepById(e.step).stage === e.stage
        ? null
        : [
            'stage',
            `is "${e.stage}", but step "${e.step}" is of stage "${stepById(e.step).stage}"`,
          ];
    case 'answer': {
      const prompts = trainingPrompts(x);
      return (
        within('index', e.index, prompts.length, 'training answers') ??
        ((e.kind === 'red-team') !== e.index < red
          ? ['kind', `is "${e.kind}", but answer ${e.index} is not to a ${e.kind} prompt`]
          : prompts[e.index] === e.prompt
            ? null
            : ['prompt', `is not training prompt ${e.index} of this run's experiment`])
      );
    }
    case 'critique':
    case 'revision':
      return (
        within('index', e.index, red, 'red-team prompts') ??
        within('round', e.round, x.stages.critique.rounds, 'critique rounds')
      );
    case 'preference': {
      const pairs = trainingPrompts(x).length * x.stages.label.pairsPerPrompt;
      return within('index', e.index, pairs, 'answer pairs at most');
    }
    case 'eval': {
      const { red: heldRed, prompts } = heldOutPrompts(x.prompts.heldOut, x.stages.evaluate);
      const samples = e.result.samples;
      if (samples.length !== prompts.length)
        return [
          'result.samples',
          `has ${samples.length} answers; this run's experiment evaluates ${prompts.length} held-out prompts`,
        ];
      const i = samples.findIndex(
        (s, i) => s.prompt !== prompts[i] || (s.kind === 'red-team') !== i < heldRed.length,
      );
      return i < 0
        ? null
        : [
            `result.samples[${i}]`,
            `is not the answer to held-out prompt ${i} of this run's experiment`,
          ];
    }
    default:
      return null;
  }
}

export type RunCheck =
  { ok: true; meta: RunMeta; events: PipelineEvent[] } | { ok: false; message: string };

/** Checks a run's record and its events (events of older versions upgraded first). */
export function checkRun(meta: unknown, events: unknown): RunCheck {
  const m = checkShape(runMeta, meta, 'meta');
  if (!m.ok) return m;
  const upgraded = Array.isArray(events) ? events.map(upgradeEvent) : events;
  const e = checkShape(list(pipelineEvent), upgraded, 'events');
  if (!e.ok) return e;
  const problems = new Problems();
  e.value.forEach((event, i) => {
    const problem = againstExperiment(event, m.value.experiment);
    if (problem) problems.add(`events[${i}].${problem[0]}`, problem[1]);
  });
  if (problems.list.length) return { ok: false, message: problems.describe() };
  return { ok: true, meta: m.value, events: e.value };
}

/** The name a damaged record goes by on the page (its own, if it has a readable one). */
export function storedName(meta: unknown): string {
  const name = (meta as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.trim() ? name.slice(0, 200) : 'Unnamed run';
}
