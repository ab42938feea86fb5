/**
 * Reading runs back from IndexedDB (pure): each stored record and event log goes through the
 * run check before it is folded, so a record another version wrote, or one damaged by hand,
 * is named on the page (to export or delete) instead of breaking it.
 */
import type { RlMethod } from '../domain/modes.ts';
import { secondsById } from '../pipeline/steps.ts';
import { checkShape } from '../config/shape.ts';
import { describeError } from '../domain/errors.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import type { StepOutputs } from '../pipeline/steps.ts';
import { checkRun, runMeta, stepOutputs, storedName } from './run-check.ts';
import { parseRunFile } from './exports.ts';
import type { RunMeta, RunStore } from './run-store.ts';
import { endRun, foldEvent, type RunData } from './run-fold.ts';

/** A stored run record that does not pass the check: listed by name, to export or delete. */
export interface DamagedRun {
  id: string;
  name: string;
  /** When it was made (sorted with the others; unknown counts as newest). */
  created: number;
  message: string;
}

/** A stored run that could not be opened, as stored, and why. */
export interface UnreadableRun {
  id: string;
  name: string;
  meta: unknown;
  events: unknown[];
  message: string;
}

/** What a stored run is folded into: the page's reactive view, or plain data. */
export type MakeView<V extends RunData> = (stages: RunMeta['stages'], method: RlMethod) => V;

/** A stored run's view: its events folded again, as they were folded live. */
export function replay<V extends RunData>(
  meta: RunMeta,
  events: PipelineEvent[],
  makeView: MakeView<V>,
): V {
  const view = makeView(meta.stages, meta.experiment.stages.rl.method);
  for (const e of events) foldEvent(view, e, performance.now());
  // A run stored as running was cut off by a reload: its unfinished step stopped there.
  if (meta.status !== 'finished') endRun(view, meta.status === 'failed' ? 'failed' : 'stopped');
  return view;
}

/** The stored records, checked: the runs that open and the damaged ones, each newest first;
 * `unopenable` names runs already found damaged past their record (id → why). */
export function sortStoredRuns(
  records: unknown[],
  unopenable: ReadonlyMap<string, string> = new Map(),
): { runs: RunMeta[]; damaged: DamagedRun[] } {
  const runs: RunMeta[] = [];
  const damaged: DamagedRun[] = [];
  for (const record of records) {
    const checked = checkShape(runMeta, record, 'meta');
    const why = checked.ok && unopenable.get(checked.value.id);
    if (checked.ok && why) {
      const { id, name, created } = checked.value;
      damaged.push({ id, name, created, message: why });
    } else if (checked.ok) runs.push(checked.value);
    else {
      const { id, created } = (record ?? {}) as { id?: unknown; created?: unknown };
      damaged.push({
        id: String(id),
        name: storedName(record),
        created: typeof created === 'number' && Number.isFinite(created) ? created : Infinity,
        message: checked.message,
      });
    }
  }
  return {
    runs: runs.sort((a, b) => b.created - a.created),
    damaged: damaged.sort((a, b) => b.created - a.created),
  };
}

export type StoredRead<V extends RunData> =
  | { ok: true; meta: RunMeta; events: PipelineEvent[]; view: V }
  | { ok: false; unreadable: UnreadableRun };

/** A stored run checked and folded into `makeView`'s view, or what is wrong with it. */
export function readStoredRun<V extends RunData>(
  id: string,
  run: { meta: unknown; events: unknown[] },
  makeView: MakeView<V>,
): StoredRead<V> {
  const checked = checkRun(run.meta, run.events);
  let message = checked.ok ? '' : checked.message;
  if (checked.ok)
    try {
      return { ...checked, view: replay(checked.meta, checked.events, makeView) };
    } catch (error) {
      message = describeError(error);
    }
  const { meta, events } = run;
  return { ok: false, unreadable: { id, name: storedName(meta), meta, events, message } };
}

/** A run's stored step outputs, checked (none stored: nothing to go on from). */
export function readOutputs(
  outputs: unknown,
): { ok: true; value: StepOutputs | null } | { ok: false; message: string } {
  if (outputs === undefined) return { ok: true, value: null };
  const checked = checkShape(stepOutputs, outputs, 'outputs');
  return checked.ok
    ? { ok: true, value: { ...checked.value, seconds: secondsById(checked.value.seconds) } }
    : {
        ok: false,
        message: `This run's stored step results are damaged (${checked.message}), so it can be viewed but not continued.`,
      };
}

/** Checks an exported run's text and stores it as a new run: its id, or what is wrong. */
export async function storeImport(
  store: RunStore | null,
  text: string,
): Promise<{ ok: true; id: string } | { ok: false; message: string }> {
  const parsed = parseRunFile(text);
  if (!parsed.ok) return parsed;
  if (!store) return { ok: false, message: 'Storage is not available in this browser.' };
  const meta = { ...parsed.run.meta, id: `run-${Date.now().toString(36)}`, created: Date.now() };
  try {
    await store.saveRun(meta);
    await store.appendEvents(meta.id, parsed.run.events);
  } catch (error) {
    return { ok: false, message: describeError(error) };
  }
  return { ok: true, id: meta.id };
}
