/**
 * The runs kept in this browser (IndexedDB), as the page lists them: the ones that open and
 * the damaged ones (each checked), a stored run read back, and a storage failure shown
 * (`storageError`), never thrown or swallowed.
 */
import { describeError } from '../domain/errors.ts';
import type { RunMeta, RunStore } from '../runs/run-store.ts';
import {
  readStoredRun,
  sortStoredRuns,
  type DamagedRun,
  type StoredRead,
} from '../runs/stored-runs.ts';
import { RunView } from './run-view.svelte.ts';

export class SavedRuns {
  #runs = $state.raw<RunMeta[]>([]);
  /** Stored runs that open, newest first. */
  get runs() {
    return this.#runs;
  }
  #damaged = $state.raw<DamagedRun[]>([]);
  /** Stored runs that do not pass the check: named, to export or delete. */
  get damaged() {
    return this.#damaged;
  }
  #storageError = $state<string | null>(null);
  get storageError() {
    return this.#storageError;
  }
  /** Runs whose events could not be folded, by id, with why (found when opened, not when
   * listed, so not reactive). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly unopenable = new Map<string, string>();

  constructor(readonly store: RunStore | null) {}

  /** Lists the stored runs, each checked: the ones that open, and the damaged ones. */
  async refresh(): Promise<void> {
    if (!this.store) return;
    const records = await this.stored(() => this.store!.listRuns(), []);
    ({ runs: this.#runs, damaged: this.#damaged } = sortStoredRuns(records, this.unopenable));
  }

  /** A stored run checked and folded into a view, or what is wrong with it (null: none). */
  async read(id: string): Promise<StoredRead<RunView> | null> {
    if (!this.store) return null;
    const run = await this.stored(() => this.store!.loadRun(id), undefined);
    if (!run) return null;
    const read = readStoredRun(id, run, (stages, method) => new RunView(stages, method));
    if (!read.ok) this.unopenable.set(id, read.unreadable.message);
    return read;
  }

  /** A stored run's view, for showing beside the current one (null if it cannot be read). */
  async viewOf(id: string): Promise<RunView | null> {
    const read = await this.read(id);
    return read?.ok ? read.view : null;
  }

  async remove(id: string): Promise<void> {
    if (!this.store) return;
    await this.stored(() => this.store!.deleteRun(id), undefined);
    await this.refresh();
  }

  /** Runs a storage call; a failure is shown (storageError), never thrown or swallowed. */
  async stored<T>(work: () => Promise<T> | undefined, fallback: T): Promise<T> {
    try {
      const out = await work();
      return out === undefined ? fallback : out;
    } catch (error) {
      this.#storageError = describeError(error);
      return fallback;
    }
  }
}
