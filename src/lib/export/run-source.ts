/**
 * A saved run as the TRL export reads it (untrusted JSON): the page's run export (its events
 * replayed into the page's own view), or the output of `npm run experiment -- --json`, whose
 * `experiment` and `records` carry the same. Anything else gets a message that says why.
 */
import { checkShape, list, nullable, object, oneOf, text, type Shape } from '../config/shape.ts';
import { critiqueModes } from '../domain/modes.ts';
import { experimentOrThrow } from '../experiment/experiment-check.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { parseRunFile, runFileFormat, type DatasetRun } from '../runs/exports.ts';
import { preferenceRecord } from '../runs/event-shapes.ts';
import { pageRunSource } from './trl-inputs.ts';
import { RunRecord, type ShownChain } from '../runs/run-fold.ts';

export interface RunForExport {
  experiment: Experiment;
  records: DatasetRun;
  /** What the run was, for the export's README. */
  source: string;
  /** Where the experiment script wrote the run's adapter (`--adapter-out`), if it did. */
  adapterDir: string | null;
}

const chain: Shape<ShownChain> = object({
  prompt: text(),
  answer: text(),
  rounds: list(
    object({
      principle: text(),
      mode: oneOf(critiqueModes),
      critique: text(),
      revision: nullable(text()),
      critiquePrompt: text(),
      revisionPrompt: nullable(text()),
    }),
  ),
});

/** `npm run experiment -- --json`'s records of a run: what the dataset exports read. */
export const experimentRecords: Shape<DatasetRun> = object({
  chains: list(chain),
  ordinary: list(object({ prompt: text(), text: text() })),
  preferences: list(preferenceRecord),
});

/** The run in `text`, or an error that says what is wrong with it. */
export function runForExport(text: string): RunForExport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('The run file is not JSON.');
  }
  const o = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (o.format === runFileFormat) {
    const parsed = parseRunFile(text);
    if (!parsed.ok) throw new Error(parsed.message);
    const { meta, events } = parsed.run;
    const view = new RunRecord(meta.stages, meta.experiment.stages.rl.method);
    for (const e of events) view.fold(e, 0);
    return {
      experiment: meta.experiment,
      records: { chains: view.chains, ordinary: view.ordinary, preferences: view.preferences },
      source: pageRunSource(meta),
      adapterDir: null,
    };
  }
  if (!('experiment' in o) || !('records' in o))
    throw new Error(
      'The run file is neither a run exported from the page ("Export this run") nor the output of `npm run experiment -- --json FILE` (it has no "experiment" and "records"; output written before they were added cannot be exported: run the experiment again).',
    );
  const experiment = experimentOrThrow(o.experiment, 'The run file’s experiment');
  const records = checkShape(experimentRecords, o.records, 'records');
  if (!records.ok) throw new Error(`The run file is damaged: ${records.message}.`);
  const adapterDir = o.adapterDir;
  if (adapterDir !== undefined && typeof adapterDir !== 'string')
    throw new Error('The run file is damaged: "adapterDir" must be a folder path.');
  return {
    experiment,
    records: records.value,
    source: `An \`npm run experiment\` run of “${experiment.name}” (seed ${experiment.seed})`,
    adapterDir: adapterDir ?? null,
  };
}
