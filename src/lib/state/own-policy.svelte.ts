/**
 * "Your own policy": a real checkpoint (a Hub id, or files the user picks) brought into the
 * engine as the policy. Every network step is a click: Check reads the config and the weights'
 * headers (a few KB) and shows the memory plan; Download fetches the files into the browser's
 * cache with bytes and time left, and can be cancelled and resumed; Load reads them into the
 * engine. The cache's size is shown with a Delete button. The Hub endpoint is the user's
 * setting (kept in this browser, never in a share link). Holds no model logic.
 */
import { describeError } from '../domain/errors.ts';
import { isHubId, modelRefText, pickedFilesId } from '../domain/model-id.ts';
import type { PolicyInfo } from '../domain/policy.ts';
import type { CachedModel } from '../model/checkpoints/part-store.ts';
import {
  checkHubEndpoint,
  defaultHubEndpoint,
  hubRefBase,
  type HubRef,
} from '../model/checkpoints/hub.ts';
import { realModelLora } from '../model/adapters/lora-config.ts';
import { hubEndpointKey, savedHubEndpoint } from '../model/checkpoints/hub-endpoint.ts';
import type { EngineClient } from '../workers/clients.ts';
import type { InspectResult } from '../model/checkpoints/inspect.ts';
import type { Call } from '../workers/worker-client.ts';

export interface OwnDownload {
  state: 'idle' | 'downloading' | 'done' | 'cancelled' | 'failed';
  loaded: number;
  total: number;
  message: string;
  /** Seconds left at the current rate, once known. */
  secondsLeft: number | null;
}

/** The run shape and adapters Check plans for, and Download refuses past: a LoRA run at the
 * experiment's usual batch and lengths. */
const checkedPlan = {
  shape: { batch: 8, promptTokens: 64, answerTokens: 64 },
  lora: realModelLora,
};

export class OwnPolicy {
  #endpoint = $state(defaultHubEndpoint);
  get endpoint() {
    return this.#endpoint;
  }
  set endpoint(value) {
    this.#endpoint = value;
  }
  #id = $state('');
  get id() {
    return this.#id;
  }
  set id(value) {
    this.#id = value;
  }
  #revision = $state('main');
  get revision() {
    return this.#revision;
  }
  set revision(value) {
    this.#revision = value;
  }
  /** The inspection of the model last checked, and what it was. */
  #report = $state.raw<(InspectResult & { id: string }) | null>(null);
  get report() {
    return this.#report;
  }
  #download = $state<OwnDownload>({
    state: 'idle',
    loaded: 0,
    total: 0,
    message: '',
    secondsLeft: null,
  });
  get download() {
    return this.#download;
  }
  #cache = $state.raw<CachedModel[]>([]);
  get cache() {
    return this.#cache;
  }
  #loaded = $state.raw<PolicyInfo | null>(null);
  get loaded() {
    return this.#loaded;
  }
  #busy = $state<'check' | 'load' | null>(null);
  get busy() {
    return this.#busy;
  }
  #error = $state<string | null>(null);
  get error() {
    return this.#error;
  }
  #sample = $state('');
  get sample() {
    return this.#sample;
  }
  private call: Call<unknown> | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly ready: Promise<unknown>,
    private readonly storage: Pick<
      Storage,
      'getItem' | 'setItem'
    > | null = globalThis.localStorage ?? null,
  ) {
    this.#endpoint = savedHubEndpoint(storage);
  }

  /** The model as typed, checked: an error message, or null when it can be used. */
  get problem(): string | null {
    if (!isHubId(this.id.trim()) || this.id.includes('@'))
      return 'Type a Hugging Face id like "HuggingFaceTB/SmolLM2-135M-Instruct" (its revision in the field beside it).';
    try {
      checkHubEndpoint(this.endpoint);
    } catch (error) {
      return describeError(error);
    }
    return this.revision.trim()
      ? null
      : 'Type a revision (a branch, tag or commit; usually "main").';
  }

  private ref(): HubRef {
    return {
      endpoint: checkHubEndpoint(this.endpoint),
      id: this.id.trim(),
      revision: this.revision.trim(),
    };
  }

  /** Keeps the endpoint for next time (in this browser only). */
  saveEndpoint(): void {
    this.storage?.setItem(hubEndpointKey, this.endpoint.trim());
  }

  async refreshCache(): Promise<void> {
    await this.ready;
    this.#cache = (await this.engine.request({ type: 'modelCache' })).models;
  }

  /** The bytes of the cache in all. */
  get cacheBytes(): number {
    return this.cache.reduce((n, m) => n + m.bytes, 0);
  }

  /** Whether the model typed is wholly in the cache. */
  get cached(): boolean {
    if (this.problem) return false;
    const base = hubRefBase(this.ref());
    return this.cache.some((m) => m.base === base && m.total > 0 && m.bytes === m.total);
  }

  async check(): Promise<void> {
    if (this.problem) return;
    this.saveEndpoint();
    this.#busy = 'check';
    this.#error = null;
    try {
      await this.ready;
      const ref = this.ref();
      const result = await this.engine.request({
        type: 'inspectHub',
        hub: ref,
        ...checkedPlan,
      });
      this.#report = { ...result, id: ref.id };
    } catch (error) {
      this.#error = describeError(error);
    } finally {
      this.#busy = null;
    }
  }

  async startDownload(): Promise<void> {
    if (this.problem || this.download.state === 'downloading') return;
    this.saveEndpoint();
    this.#error = null;
    this.#download = {
      state: 'downloading',
      loaded: 0,
      total: 0,
      message: 'Starting…',
      secondsLeft: null,
    };
    const entry = this.download;
    const started = performance.now();
    let first: number | null = null;
    await this.ready;
    const request = { type: 'downloadHub', hub: this.ref(), ...checkedPlan } as const;
    this.call = this.engine.call(request, (e) => {
      if (e.status !== 'progress') return;
      first ??= e.done; // what the cache already had
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0.5 ? (e.done - first) / seconds : 0;
      Object.assign(entry, {
        loaded: e.done,
        total: e.total,
        message: e.message,
        secondsLeft: rate > 0 ? (e.total - e.done) / rate : null,
      });
    });
    try {
      await this.call.result;
      entry.state = 'done';
      entry.secondsLeft = 0;
      entry.message = 'Downloaded and kept in this browser.';
    } catch (error) {
      const cancelled = (error as { cancelled?: boolean }).cancelled === true;
      entry.state = cancelled ? 'cancelled' : 'failed';
      entry.message = cancelled
        ? 'Cancelled: the parts downloaded are kept, Download resumes.'
        : describeError(error);
    } finally {
      this.call = null;
      await this.refreshCache();
    }
  }

  cancel(): void {
    this.call?.cancel();
  }

  /** Loads the downloaded model into the engine as its policy. */
  async load(): Promise<void> {
    if (this.problem) return;
    const plan = this.report?.id === this.id.trim() ? this.report : null;
    if (plan && !plan.fits) {
      // The plan's last line says by how much and what to change.
      this.#error = `Not loaded: ${plan.lines.at(-1)?.trim() ?? 'it does not fit this backend'}`;
      return;
    }
    this.#busy = 'load';
    this.#error = null;
    try {
      const ref = this.ref();
      // The policy's id carries its revision, so a run of the experiment loads this one.
      const model = modelRefText({ kind: 'hub', id: ref.id, revision: ref.revision });
      this.#loaded = await this.engine.request({ type: 'loadPolicy', model, hub: ref });
    } catch (error) {
      this.#error = describeError(error);
    } finally {
      this.#busy = null;
    }
  }

  /** Loads checkpoint files the user picked (config.json, tokenizer files, safetensors). */
  async loadFiles(files: File[]): Promise<void> {
    this.#busy = 'load';
    this.#error = null;
    try {
      await this.ready;
      this.#loaded = await this.engine.request({
        type: 'loadPolicy',
        model: pickedFilesId,
        files,
      });
    } catch (error) {
      this.#error = describeError(error);
    } finally {
      this.#busy = null;
    }
  }

  /** One answer of the loaded policy, through its own chat template. */
  async trySample(prompt: string): Promise<void> {
    this.#sample = '';
    try {
      const result = await this.engine.request(
        {
          type: 'generate',
          prompts: [prompt],
          settings: { maxNewTokens: 24, temperature: 1, topK: 0, topP: 1, seed: 1, noCache: false },
        },
        (e) => {
          if (e.status === 'token') this.#sample += e.text;
        },
      );
      this.#sample = result.texts[0] ?? this.sample;
    } catch (error) {
      this.#error = describeError(error);
    }
  }

  async deleteCache(base: string | null): Promise<void> {
    this.#cache = (await this.engine.request({ type: 'deleteCached', base })).models;
    if (this.download.state !== 'downloading')
      this.#download = { state: 'idle', loaded: 0, total: 0, message: '', secondsLeft: null };
  }
}
