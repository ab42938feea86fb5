/**
 * Downloads of Hub feedback models, each started by the user's click: the bytes so far, the
 * total, and the outcome. A finished download becomes the experiment's feedback model (and
 * stays in the browser's cache, so a run does not fetch it again). Holds no pipeline logic.
 */
import { describeError } from '../domain/errors.ts';
import { isHubId } from '../domain/model-id.ts';
import { hubCatalog, type HubModel } from '../feedback/hub-catalog.ts';
import type { FeedbackClient } from '../workers/clients.ts';
import type { Call } from '../workers/worker-client.ts';
import type { ExperimentDraft } from './experiment-draft.svelte.ts';

export interface Download {
  state: 'downloading' | 'ready' | 'failed' | 'cancelled';
  loaded: number;
  total: number;
  /** The file being fetched, or what went wrong. */
  message: string;
}

export class HubDownloads {
  readonly catalog: readonly HubModel[] = hubCatalog;
  /** By model id; a model never downloaded in this page has no entry. */
  #downloads = $state<Record<string, Download>>({});
  get downloads() {
    return this.#downloads;
  }
  private calls: Record<string, Call<unknown>> = {};

  constructor(
    private readonly feedback: FeedbackClient,
    private readonly draft: ExperimentDraft,
    private readonly ready: Promise<unknown>,
    /** The feedback worker's device once known (it decides which weights file is fetched). */
    readonly device: () => 'webgpu' | 'wasm' | null,
  ) {}

  /** The experiment's Hub feedback model when it is not in the catalog (typed or from a link). */
  get other(): string | null {
    const id = this.draft.experiment.models.feedback;
    return isHubId(id) && !this.catalog.some((m) => m.id === id) ? id : null;
  }

  get busy(): boolean {
    return Object.values(this.downloads).some((d) => d.state === 'downloading');
  }

  /**
   * Downloads a Hub model into the feedback worker (the click is the user's permission) and
   * makes it the experiment's feedback model.
   */
  async download(id: string): Promise<void> {
    if (this.busy) return;
    this.draft.hubAllowed = true;
    this.downloads[id] = { state: 'downloading', loaded: 0, total: 0, message: 'Starting…' };
    const entry = this.downloads[id]!;
    await this.ready;
    const call = this.feedback.call({ type: 'load', model: id }, (e) => {
      if (e.status === 'progress')
        Object.assign(entry, { loaded: e.done, total: e.total, message: e.message });
    });
    this.calls[id] = call;
    try {
      await call.result;
      Object.assign(entry, { state: 'ready', loaded: entry.total, message: 'Ready' });
      this.draft.experiment.models.feedback = id;
    } catch (error) {
      const cancelled = (error as { cancelled?: boolean }).cancelled === true;
      Object.assign(entry, {
        state: cancelled ? 'cancelled' : 'failed',
        message: cancelled
          ? 'Cancelled.'
          : `Could not load ${id}: ${describeError(error)}. The experiment keeps its feedback model.`,
      });
    } finally {
      delete this.calls[id];
    }
  }

  cancel(id: string): void {
    this.calls[id]?.cancel();
  }
}
