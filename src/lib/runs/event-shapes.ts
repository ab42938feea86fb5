/**
 * The shapes of a run's events and the records they carry, for untrusted runs (an imported
 * file, a record read back from IndexedDB): every field checked, with its path, before
 * anything is folded or drawn. Each shape is typed as the type it checks, so the two cannot
 * drift apart without the compiler saying so.
 */
import {
  boolean,
  list,
  number,
  object,
  oneOf,
  optional,
  record,
  tagged,
  text,
  type Shape,
} from '../config/shape.ts';
import { critiqueModes } from '../domain/modes.ts';
import { policyNames, type PpoSample } from '../domain/policy.ts';
import {
  judgeNames,
  type AiVerdict,
  type EvalResult,
  type JudgeFigures,
  type PreferenceRecord,
} from '../domain/records.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import { stageOrder, stepCatalog, type StepId } from '../pipeline/steps.ts';
import { labels } from '../domain/labels.ts';

const promptKinds = ['red-team', 'ordinary'] as const;

/** A count, an index, a step number. */
export const whole = number({ min: 0, max: 10_000_000, integer: true });
export const seconds = number({ min: 0, max: 1e9 });
/** A share in [0, 1] (a sum of 1/n may overshoot 1 by a rounding error, which is let be). */
const share = number({ min: 0, max: 1 });
export const rate: Shape<number> = {
  check: (v, path, p) =>
    typeof v === 'number' && v > 1 && v < 1 + 1e-9 ? v : share.check(v, path, p),
};

/** A measured number, which may be NaN (an eval loss with no held-out data); JSON writes NaN
 * as null, so null reads back as NaN. */
export const measured: Shape<number> = {
  check: (v, path, p) =>
    v === null || (typeof v === 'number' && Number.isNaN(v)) ? NaN : number().check(v, path, p),
};

const stage = oneOf(stageOrder);
const step = oneOf(stepCatalog.map((s) => s.id) as StepId[]);
const message = text({ max: 2000 });

const allLabelRates = object(
  Object.fromEntries(labels.map((l) => [l, rate])) as Record<(typeof labels)[number], typeof rate>,
);

/** Labels a judge gained after runs were stored: `unknown` (the world's answer to a request
 * outside every topic) and `offtopic` (an answer about another topic than the prompt's, once the
 * judge read the prompt). A run saved before one of them has none: its judge could not give it. */
const laterLabels = ['unknown', 'offtopic'] as const;

/** Label shares; a later label missing from a stored run's shares is 0 (see laterLabels). */
export const labelRates: typeof allLabelRates = {
  check: (v, path, p) =>
    allLabelRates.check(
      typeof v === 'object' && v !== null
        ? { ...Object.fromEntries(laterLabels.map((l) => [l, 0])), ...v }
        : v,
      path,
      p,
    ),
};

export const judgeFigures: Shape<JudgeFigures> = object({
  harmlessness: rate,
  helpfulness: rate,
  evasiveness: rate,
  redTeam: labelRates,
  ordinary: labelRates,
});

const aiVerdict: Shape<AiVerdict> = object({ label: oneOf(labels), confidence: rate });

export const aiJudge: Shape<NonNullable<EvalResult['aiJudge']>> = object({
  model: text(),
  figures: judgeFigures,
  confidence: rate,
  agreement: optional(rate),
});

export const evalResult: Shape<EvalResult> = object({
  harmlessness: rate,
  helpfulness: rate,
  evasiveness: rate,
  redTeam: labelRates,
  ordinary: labelRates,
  judge: optional(oneOf(judgeNames)),
  samples: list(
    object({
      prompt: text(),
      kind: oneOf(promptKinds),
      text: text(),
      label: oneOf(labels),
      world: optional(oneOf(labels)),
      ai: optional(aiVerdict),
    }),
  ),
  aiJudge: optional(aiJudge),
  worldFigures: optional(judgeFigures),
});

export const preferenceRecord: Shape<PreferenceRecord> = object({
  prompt: text(),
  chosen: text(),
  rejected: text(),
  label: rate,
  principle: text(),
  responseA: text(),
  responseB: text(),
  probabilityA: rate,
  reasoning: text(),
});

const ppoSample: Shape<PpoSample> = object({
  prompt: text(),
  response: text(),
  score: measured,
  finished: boolean,
});

const kind = <const T extends string>(type: T) => oneOf([type]);

/** One event as the pipeline emits it. */
export const pipelineEvent: Shape<PipelineEvent> = tagged('type', {
  'stage-start': object({ type: kind('stage-start'), stage, step }),
  'stage-end': object({ type: kind('stage-end'), stage, step, seconds }),
  progress: object({ type: kind('progress'), stage, done: whole, total: whole, message }),
  token: object({ type: kind('token'), stage, key: text({ max: 200 }), delta: text() }),
  answer: object({
    type: kind('answer'),
    index: whole,
    kind: oneOf(promptKinds),
    prompt: text(),
    text: text(),
  }),
  critique: object({
    type: kind('critique'),
    index: whole,
    round: whole,
    principle: text(),
    mode: oneOf(critiqueModes),
    critiquePrompt: text(),
    text: text(),
  }),
  revision: object({
    type: kind('revision'),
    index: whole,
    round: whole,
    revisionPrompt: text(),
    text: text(),
  }),
  preference: object({ type: kind('preference'), index: whole, record: preferenceRecord }),
  metrics: object({ type: kind('metrics'), stage, step: whole, values: record(measured) }),
  samples: object({
    type: kind('samples'),
    stage,
    step: whole,
    samples: list(ppoSample, { max: 10_000 }),
  }),
  warning: object({ type: kind('warning'), stage, step: whole, message }),
  eval: object({ type: kind('eval'), policy: oneOf(policyNames), result: evalResult }),
});
