/**
 * Persistence in IndexedDB: the current experiment, every run (its experiment, its event log,
 * its report) and the policies' checkpoints, so a reload loses no finished work. A run is
 * stored as the events the pipeline emitted (token deltas left out): replaying them rebuilds
 * every view. Storage failures become a StorageError with a message for the page; nothing is
 * swallowed.
 */
import { describeError } from '../domain/errors.ts';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { PipelineEvent } from '../pipeline/events.ts';
import type { Checkpoints } from '../pipeline/run-experiment.ts';
import type { ExperimentReport } from '../pipeline/run-report.ts';
import type { StageSet } from '../pipeline/steps.ts';
import type { CheckpointSlot } from '../domain/policy.ts';
import type { StepOutputs } from '../pipeline/steps.ts';
import type { Experiment } from '../experiment/experiment.ts';

export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed';

export interface RunMeta {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  created: number;
  stages: StageSet;
  status: RunStatus;
  experiment: Experiment;
  report: ExperimentReport | null;
  error: string | null;
}

interface PlaygroundDb extends DBSchema {
  experiments: { key: string; value: Experiment };
  runs: { key: string; value: RunMeta };
  /** Event log chunks, keyed [run id, chunk number]. */
  events: { key: [string, number]; value: { run: string; chunk: number; events: PipelineEvent[] } };
  checkpoints: {
    key: [string, CheckpointSlot];
    value: { run: string; policy: CheckpointSlot; bytes: Uint8Array };
  };
  /** What a run's finished steps produced, keyed by run id (so it can go on). */
  outputs: { key: string; value: StepOutputs };
}

export class StorageError extends Error {
  override name = 'StorageError';
}

const dbName = 'cai-playground';

/** A message a student can act on, for an IndexedDB failure. */
export function storageMessage(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'QuotaExceededError')
    return "The browser's storage for this page is full, so this run will not survive a reload. Delete past runs (Saved runs) to free space.";
  if (name === 'InvalidStateError' || name === 'SecurityError' || name === 'UnknownError')
    return 'This browser blocks storage for this page (private window or site settings), so runs and checkpoints will not survive a reload.';
  const detail = describeError(error);
  return `Saving failed (${detail}); this run will not survive a reload.`;
}

/** The page's store. Every method throws StorageError with a readable message on failure. */
export class RunStore {
  private db: Promise<IDBPDatabase<PlaygroundDb>> | null = null;
  private chunks = new Map<string, number>();

  constructor(private readonly name = dbName) {}

  private open(): Promise<IDBPDatabase<PlaygroundDb>> {
    if (typeof indexedDB === 'undefined')
      return Promise.reject(
        new StorageError(storageMessage(new DOMException('', 'SecurityError'))),
      );
    this.db ??= openDB<PlaygroundDb>(this.name, 2, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          db.createObjectStore('experiments');
          db.createObjectStore('runs', { keyPath: 'id' });
          db.createObjectStore('events', { keyPath: ['run', 'chunk'] });
          db.createObjectStore('checkpoints', { keyPath: ['run', 'policy'] });
        }
        if (oldVersion < 2) db.createObjectStore('outputs');
      },
      blocking() {
        // Another tab upgrades the database: let it.
      },
    });
    return this.db;
  }

  private async guard<T>(work: (db: IDBPDatabase<PlaygroundDb>) => Promise<T>): Promise<T> {
    try {
      return await work(await this.open());
    } catch (error) {
      if (error instanceof StorageError) throw error;
      this.db = null;
      throw new StorageError(storageMessage(error));
    }
  }

  saveExperiment(experiment: Experiment): Promise<void> {
    return this.guard(async (db) => {
      await db.put('experiments', $clone(experiment), 'current');
    });
  }

  loadExperiment(): Promise<Experiment | undefined> {
    return this.guard((db) => db.get('experiments', 'current'));
  }

  saveRun(meta: RunMeta): Promise<void> {
    return this.guard(async (db) => {
      await db.put('runs', $clone(meta));
    });
  }

  /** Appends a chunk of events to a run's log. */
  appendEvents(run: string, events: PipelineEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const chunk = this.chunks.get(run) ?? 0;
    this.chunks.set(run, chunk + 1);
    return this.guard(async (db) => {
      await db.put('events', { run, chunk, events: $clone(events) });
    });
  }

  putCheckpoint(run: string, policy: CheckpointSlot, bytes: Uint8Array): Promise<void> {
    return this.guard(async (db) => {
      await db.put('checkpoints', { run, policy, bytes });
    });
  }

  /** Every checkpoint of a run, by slot. */
  getCheckpoints(run: string): Promise<Checkpoints> {
    return this.guard(async (db) => {
      const range = IDBKeyRange.bound([run, ''], [run, '\uffff']);
      const rows = await db.getAll('checkpoints', range);
      return Object.fromEntries(rows.map((r) => [r.policy, r.bytes]));
    });
  }

  putOutputs(run: string, outputs: StepOutputs): Promise<void> {
    return this.guard(async (db) => {
      await db.put('outputs', $clone(outputs), run);
    });
  }

  /** A run's stored outputs, unchecked (see listRuns). */
  getOutputs(run: string): Promise<unknown> {
    return this.guard((db) => db.get('outputs', run));
  }

  /** Every stored run record, as stored: untrusted (another version, or damaged by hand),
   * so the caller checks each (run-check.ts). */
  listRuns(): Promise<unknown[]> {
    return this.guard((db) => db.getAll('runs'));
  }

  /** A run's record and its whole event log, in order, as stored (unchecked, as above). */
  loadRun(id: string): Promise<{ meta: unknown; events: unknown[] } | undefined> {
    return this.guard(async (db) => {
      const meta: unknown = await db.get('runs', id);
      if (meta === undefined) return undefined;
      const range = IDBKeyRange.bound([id, 0], [id, Infinity]);
      const chunks: unknown[] = await db.getAll('events', range);
      this.chunks.set(id, chunks.length);
      // A damaged chunk (no list of events) stays in the log as a null, for the check to name.
      const events = chunks.flatMap((c) => {
        const list = (c as { events?: unknown } | null)?.events;
        return Array.isArray(list) ? (list as unknown[]) : [null];
      });
      return { meta, events };
    });
  }

  deleteRun(id: string): Promise<void> {
    return this.guard(async (db) => {
      const tx = db.transaction(['runs', 'events', 'checkpoints', 'outputs'], 'readwrite');
      await Promise.all([
        tx.objectStore('runs').delete(id),
        tx.objectStore('outputs').delete(id),
        tx.objectStore('events').delete(IDBKeyRange.bound([id, 0], [id, Infinity])),
        tx.objectStore('checkpoints').delete(IDBKeyRange.bound([id, ''], [id, '\uffff'])),
        tx.done,
      ]);
      this.chunks.delete(id);
    });
  }
}

/** A plain copy (Svelte state proxies cannot be stored by structured clone). */
function $clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
