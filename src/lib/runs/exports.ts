/**
 * Exports and imports (pure): a whole run as JSON (experiment, report, event log), and the
 * run's datasets as JSONL in TRL's formats: SFT `messages`, preferences `prompt` / `chosen` /
 * `rejected`, and the critique / revision columns of the public CAI datasets
 * (init_prompt, init_response, critic_prompt, critic_response, revision_prompt,
 * revision_response).
 */
import type { PipelineEvent } from '../pipeline/events.ts';
import { checkRun } from './run-check.ts';
import type { RunMeta } from './run-store.ts';
import type { RunData } from './run-fold.ts';
import type { PromptSets } from '../experiment/experiment.ts';

export const runFileFormat = 'cai-playground-run';
export const runFileVersion = 1;

/** A run as a file (a damaged stored run is exported as it was stored: `unknown` parts). */
export interface RunFile<Meta = RunMeta, Event = PipelineEvent> {
  format: typeof runFileFormat;
  version: typeof runFileVersion;
  meta: Meta;
  events: Event[];
}

const jsonl = (rows: unknown[]) =>
  rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

/** What the dataset exports read: a run's chains, ordinary answers and preference labels (a
 * RunView has them; so does a run's outputs, made into this shape by `npm run experiment`). */
export type DatasetRun = Pick<RunData, 'chains' | 'ordinary' | 'preferences'>;

/** The fields of each dataset's rows, as the exports write and their READMEs document them. */
export const datasetFields = {
  sft: ['messages'],
  preferences: ['prompt', 'chosen', 'rejected', 'label', 'principle'],
  critiques: [
    'init_prompt',
    'init_response',
    'critic_prompt',
    'critic_response',
    'revision_prompt',
    'revision_response',
    'principle',
    'mode',
  ],
  prompts: ['prompt', 'kind', 'split'],
} as const;

/** SFT data as SL-CAI trains on it: each red-team prompt with its last revision (every round's
 * with `everyRound`), and the ordinary prompts with the policy's own answers; empty ones left
 * out (pipeline/sft-data.ts's set, before its held-out split). */
export function sftJsonl(view: DatasetRun, everyRound: boolean): string {
  const rows = [
    ...view.chains.flatMap((c) =>
      (everyRound ? (c?.rounds ?? []) : (c?.rounds.slice(-1) ?? [])).flatMap((r) =>
        r?.revision ? [{ prompt: c.prompt, response: r.revision.trim() }] : [],
      ),
    ),
    ...view.ordinary.map((o) => ({ prompt: o.prompt, response: o.text.trim() })),
  ].filter((r) => r.response.length > 0);
  return jsonl(
    rows.map((r) => ({
      messages: [
        { role: 'user', content: r.prompt },
        { role: 'assistant', content: r.response },
      ],
    })),
  );
}

/** The AI preference labels, with the soft label and the principle beside TRL's columns. */
export function preferencesJsonl(view: DatasetRun): string {
  return jsonl(
    view.preferences.map((p) => ({
      prompt: p.prompt,
      chosen: p.chosen,
      rejected: p.rejected,
      label: p.label,
      principle: p.principle,
    })),
  );
}

/** One row per critique round, in the public CAI datasets' columns. */
export function critiquesJsonl(view: DatasetRun): string {
  return jsonl(
    view.chains.flatMap((c) =>
      (c?.rounds ?? []).flatMap((r) =>
        r && r.revision !== null
          ? [
              {
                init_prompt: c.prompt,
                init_response: c.answer,
                critic_prompt: r.critiquePrompt,
                critic_response: r.critique,
                revision_prompt: r.revisionPrompt,
                revision_response: r.revision,
                principle: r.principle,
                mode: r.mode,
              },
            ]
          : [],
      ),
    ),
  );
}

/** Every prompt of the experiment: red-team and ordinary, training and held out. */
export function promptsJsonl(prompts: PromptSets): string {
  const rows = (kind: 'red-team' | 'ordinary', split: 'train' | 'held_out', texts: string[]) =>
    texts.map((prompt) => ({ prompt, kind, split }));
  return jsonl([
    ...rows('red-team', 'train', prompts.redTeam),
    ...rows('ordinary', 'train', prompts.ordinary),
    ...rows('red-team', 'held_out', prompts.heldOut.redTeam),
    ...rows('ordinary', 'held_out', prompts.heldOut.ordinary),
  ]);
}

export function runFile<Meta, Event>(meta: Meta, events: Event[]): RunFile<Meta, Event> {
  return { format: runFileFormat, version: runFileVersion, meta, events };
}

const fileKeys = ['format', 'version', 'meta', 'events'];

/** Reads an exported run (untrusted): the run, or a readable reason it cannot be read. */
export function parseRunFile(
  text: string,
): { ok: true; run: RunFile } | { ok: false; message: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, message: 'This file is not JSON.' };
  }
  const o = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (o.format !== runFileFormat)
    return { ok: false, message: 'This file is not a CAI Playground run export.' };
  if (!('version' in o))
    return { ok: false, message: 'This run export is damaged: it has no format version.' };
  if (typeof o.version !== 'number' || !Number.isInteger(o.version) || o.version < 1)
    return {
      ok: false,
      message: `This run export is damaged: its format version must be a whole number of at least 1 (it is ${JSON.stringify(o.version)}).`,
    };
  if (o.version > runFileVersion)
    return {
      ok: false,
      message: `This run was exported by a newer version of CAI Playground (format ${o.version}; this one reads ${runFileVersion}).`,
    };
  const unknown = Object.keys(o).filter((k) => !fileKeys.includes(k));
  if (unknown.length)
    return {
      ok: false,
      message: `This run export is damaged: ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')} is not a field this app knows.`,
    };
  const checked = checkRun(o.meta, o.events);
  if (!checked.ok) return { ok: false, message: `This run export is damaged: ${checked.message}.` };
  const meta = checked.meta;
  return {
    ok: true,
    run: {
      format: runFileFormat,
      version: runFileVersion,
      meta: { ...meta, status: meta.status === 'finished' ? 'finished' : 'stopped' },
      events: checked.events,
    },
  };
}
