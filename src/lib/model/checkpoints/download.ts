/**
 * Downloads of Hub checkpoints into the browser's cache (Cache Storage), in parts fetched with
 * Range requests, so a cancelled or interrupted download resumes where it stopped and a model
 * downloaded once is never fetched again. Only ever started by the user's click.
 */
import { describeError } from '../../domain/errors.ts';
import { indexFile, weightsFile, type FileSource } from './checkpoint.ts';
import { checkFileName } from './checkpoint-check.ts';
import { headerLength, safetensorsHeader } from './safetensors.ts';

/** Bytes per stored part (and per Range request). */
export const partBytes = 4 * 2 ** 20;

/** Where parts are kept: Cache Storage in the browser, a Map in unit tests. */
export interface PartStore {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  keys(): Promise<string[]>;
  delete(key: string): Promise<void>;
}

export const modelCacheName = 'cai-playground-models';

/** The browser's Cache Storage as a part store (keys are URLs with a query naming the part). */
export async function cacheStore(name = modelCacheName): Promise<PartStore> {
  const cache = await caches.open(name);
  return {
    async get(key) {
      const hit = await cache.match(key);
      return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
    },
    put: (key, bytes) => cache.put(key, new Response(bytes as BlobPart)),
    keys: async () => (await cache.keys()).map((r) => r.url),
    delete: async (key) => {
      await cache.delete(key);
    },
  };
}

const partKey = (url: string, i: number) => `${url}?cai-part=${i}`;
const sizeKey = (url: string) => `${url}?cai-size`;

export interface DownloadProgress {
  file: string;
  /** Bytes of all files so far (cached parts included) and in all, once known. */
  loaded: number;
  total: number;
  /** Bytes per second over this download's network transfers (0 before the first part). */
  rate: number;
}

/** The files a policy needs, in order: the small ones first, then the weights. */
const policyFiles = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const optionalFiles = ['generation_config.json', indexFile];

/** The largest file a download accepts (64 GiB): a size past it is a server's error or a lie. */
export const maxFileBytes = 64 * 2 ** 30;
/** How long a transfer may go without a byte before it is given up (Download resumes it). */
export const stallMs = 30_000;

interface FileSize {
  size: number;
  /** Whether the server answered the first Range request with a part (else it sent it all). */
  ranged: boolean;
}

/** A stored size record, or null when it is not one this downloader could have written. */
function sizeRecord(bytes: Uint8Array): FileSize | null {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as FileSize;
    return Number.isSafeInteger(r.size) && r.size >= 0 && r.size <= maxFileBytes
      ? { size: r.size, ranged: r.ranged === true }
      : null;
  } catch {
    return null;
  }
}

/** How many parts a file is stored in (one when its server ignored Range). */
const partCount = (size: FileSize) =>
  size.ranged ? Math.max(1, Math.ceil(size.size / partBytes)) : 1;

/** Bytes of part `i` of a file. */
const partLength = (size: FileSize, i: number) =>
  size.ranged ? Math.min(partBytes, size.size - i * partBytes) : size.size;

/** A response's status and headers, with its body read (at most `limit` bytes). */
interface Transfer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

/** What a policy download may ask before it fetches: throws when `missing` bytes cannot be held. */
export type RoomCheck = (missing: number, total: number) => Promise<void>;

export class HubDownloader {
  private readonly started = performance.now();
  private fetched = 0;

  constructor(
    private readonly base: string,
    private readonly store: PartStore,
    private readonly fetchFn: typeof fetch,
    private readonly signal: AbortSignal,
    private readonly stallAfterMs = stallMs,
  ) {}

  /**
   * One request, its body read as it arrives: a stall of `stallAfterMs` without a byte gives
   * it up, and more than `limit` bytes is refused (a server ignoring Range sends everything).
   * Null on HTTP 404.
   */
  private async get(url: string, range: [number, number] | null, limit: number) {
    const stall = new AbortController();
    const cancel = () => stall.abort();
    this.signal.addEventListener('abort', cancel);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), this.stallAfterMs);
    };
    const failed = (error: unknown) => {
      if (this.signal.aborted) return new Error('Cancelled.');
      if (stall.signal.aborted)
        return new Error(
          `Could not download ${url}: no byte came for ${this.stallAfterMs / 1000} s, so the transfer was given up. Download again to resume where it stopped.`,
        );
      return new Error(`Could not download ${url}: ${describeError(error)}`);
    };
    try {
      arm();
      let response: Response;
      try {
        const fetchFn = this.fetchFn; // called unbound: the global fetch refuses another `this`
        response = await fetchFn(url, {
          signal: stall.signal,
          cache: 'no-store',
          ...(range ? { headers: { Range: `bytes=${range[0]}-${range[1] - 1}` } } : {}),
        });
      } catch (error) {
        throw failed(error);
      }
      if (response.status === 404) return null;
      if (!response.ok)
        throw new Error(`Could not download ${url}: the server answered HTTP ${response.status}.`);
      const chunks: Uint8Array[] = [];
      let length = 0;
      const reader = response.body?.getReader();
      try {
        for (;;) {
          const next = reader ? await reader.read() : { done: true as const, value: undefined };
          if (next.done) break;
          arm();
          chunks.push(next.value);
          length += next.value.byteLength;
          if (length > limit) {
            await reader?.cancel();
            throw new Error(
              `Could not download ${url}: the server sent more than the ${limit} bytes asked for.`,
            );
          }
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('Could not download')) throw error;
        throw failed(error);
      }
      const bytes = new Uint8Array(length);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.byteLength;
      }
      return { status: response.status, headers: response.headers, bytes } satisfies Transfer;
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', cancel);
    }
  }

  /** A file's size, from the store or from its first part (which is then stored). */
  private async size(url: string): Promise<FileSize | null> {
    const known = await this.store.get(sizeKey(url));
    const record = known && sizeRecord(known);
    if (record) return record;
    const response = await this.get(url, [0, partBytes], maxFileBytes);
    if (!response) return null;
    const { bytes } = response;
    this.fetched += bytes.byteLength;
    const range = /^bytes \d+-\d+\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
    let entry: FileSize = { size: bytes.byteLength, ranged: false };
    if (response.status === 206) {
      const total = range ? Number(range[1]) : NaN;
      if (!Number.isSafeInteger(total) || total > maxFileBytes)
        throw new Error(
          `${url}: the server says the file has ${range?.[1] ?? 'an unreadable number of'} bytes, past the ${maxFileBytes / 2 ** 30} GiB any model file this app reads has; nothing of it is kept.`,
        );
      if (bytes.byteLength !== Math.min(partBytes, total))
        throw new Error(
          `${url}: the server sent ${bytes.byteLength} bytes for the first part of a ${total}-byte file; nothing of it is kept.`,
        );
      entry = { size: total, ranged: true };
    }
    checkFirstPart(url, bytes, entry.size);
    await this.store.put(partKey(url, 0), bytes);
    await this.store.put(sizeKey(url), new TextEncoder().encode(JSON.stringify(entry)));
    return entry;
  }

  /** Fetches the missing parts of one file, reporting bytes as parts arrive. */
  private async fetchFile(url: string, size: FileSize, onBytes: (n: number) => void) {
    for (let i = 0; i < partCount(size); i++) {
      const key = partKey(url, i);
      const length = partLength(size, i);
      if (!(await this.store.get(key))) {
        const from = i * partBytes;
        const response = await this.get(url, [from, from + length], length);
        if (!response) throw new Error(`${url} disappeared from the server during the download.`);
        if (response.status !== 206 || response.bytes.byteLength !== length)
          throw new Error(
            `${url}: the server did not send bytes ${from}-${from + length - 1} (resume it later).`,
          );
        this.fetched += response.bytes.byteLength;
        await this.store.put(key, response.bytes);
      }
      onBytes(length);
    }
  }

  /** Bytes of `sizes` already in the store. */
  private async storedBytes(urls: [string, FileSize][]): Promise<number> {
    const keys = new Set(await this.store.keys());
    let n = 0;
    for (const [url, size] of urls)
      for (let i = 0; i < partCount(size); i++)
        if (keys.has(partKey(url, i))) n += partLength(size, i);
    return n;
  }

  /**
   * Downloads (or finds in the store) every file a policy needs; resolves to their sizes.
   * Before fetching the weights, `room` is asked whether the bytes still missing fit (the
   * memory plan, the storage left); each file is checked as it arrives (JSON parses, a weights
   * file's header parses and matches its size), and a file that fails is dropped from the store.
   */
  async policy(
    onProgress: (p: DownloadProgress) => void,
    room?: RoomCheck,
  ): Promise<Record<string, number>> {
    const sizes = new Map<string, FileSize>();
    for (const file of [...policyFiles, ...optionalFiles]) {
      const size = await this.size(this.base + file);
      if (size) sizes.set(file, size);
      else if (policyFiles.includes(file))
        throw new Error(
          `The Hub model has no ${file} (is it a chat model in the Hugging Face layout?).`,
        );
    }
    let weights = [weightsFile];
    if (sizes.has(indexFile)) {
      await this.fetchFile(this.base + indexFile, sizes.get(indexFile)!, () => {});
      const index = await this.json(indexFile);
      const map = index.weight_map;
      if (!map || typeof map !== 'object')
        throw new Error(`${indexFile} of the Hub model has no "weight_map" object.`);
      const named = Object.values(map as Record<string, unknown>);
      weights = [...new Set(named.map((f) => checkFileName(f, indexFile)))].sort();
    }
    for (const file of weights) {
      const size = await this.size(this.base + file);
      if (!size) throw new Error(`The Hub model has no ${file}.`);
      sizes.set(file, size);
    }
    const total = [...sizes.values()].reduce((n, s) => n + s.size, 0);
    const urls = [...sizes].map(([f, s]) => [this.base + f, s] as [string, FileSize]);
    await room?.(total - (await this.storedBytes(urls)), total);
    let loaded = 0;
    for (const [file, size] of sizes) {
      await this.fetchFile(this.base + file, size, (n) => {
        loaded += n;
        const seconds = (performance.now() - this.started) / 1000;
        onProgress({ file, loaded, total, rate: seconds > 0 ? this.fetched / seconds : 0 });
      });
      if (file.endsWith('.json')) await this.json(file);
    }
    return Object.fromEntries([...sizes].map(([f, s]) => [f, s.size]));
  }

  /** A stored JSON file, parsed; one that is not JSON is dropped from the store and refused. */
  private async json(file: string): Promise<Record<string, unknown>> {
    const bytes = await this.file(file);
    const text = new TextDecoder().decode(bytes);
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // refused below
    }
    await deleteFile(this.store, this.base + file);
    throw new Error(
      `${file} of the Hub model is not a JSON object (it begins ${JSON.stringify(text.slice(0, 40))}): the server did not send the file. Nothing of it is kept; check the model's id and revision.`,
    );
  }

  /** One stored file, whole (null when the store does not have all of it). */
  async file(file: string): Promise<Uint8Array> {
    const bytes = await storedFile(this.store, this.base + file);
    if (!bytes) throw new Error(`${file} is not in the browser's cache yet.`);
    return bytes;
  }
}

/**
 * What the first part of a file must be: a weights file's safetensors header, parsed and
 * checked, with its data ending exactly at the file's size; any file, not a web page.
 */
function checkFirstPart(url: string, first: Uint8Array, size: number): void {
  const file = url.slice(url.lastIndexOf('/') + 1);
  const start = new TextDecoder().decode(first.subarray(0, 64)).trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html'))
    throw new Error(
      `${file} of the Hub model came as a web page, not the file: check the model's id and revision. Nothing of it is kept.`,
    );
  if (!file.endsWith('.safetensors')) return;
  const where = `${file} of the Hub model`;
  const length = headerLength(first, where);
  if (8 + length > first.byteLength)
    throw new Error(`${where}: its header is larger than ${partBytes} bytes; it is not read.`);
  const { entries } = safetensorsHeader(first.subarray(0, 8 + length), size, where);
  const end = Math.max(8 + length, ...entries.map((e) => e.end));
  if (end !== size)
    throw new Error(
      `${where} has ${size} bytes, but its header describes ${end}: the file is corrupt or not what the server says. Nothing of it is kept.`,
    );
}

/** Deletes every stored part of one file and its size record. */
async function deleteFile(store: PartStore, url: string): Promise<void> {
  for (const key of await store.keys()) if (key.startsWith(`${url}?cai-`)) await store.delete(key);
}

/** A file assembled from its stored parts, or null when a part is missing. */
export async function storedFile(store: PartStore, url: string): Promise<Uint8Array | null> {
  const known = await store.get(sizeKey(url));
  const size = known && sizeRecord(known);
  if (!size) return null;
  const out = new Uint8Array(size.size);
  const parts = partCount(size);
  for (let i = 0; i < parts; i++) {
    const part = await store.get(partKey(url, i));
    if (!part) return null;
    out.set(part, i * partBytes);
  }
  return out;
}

/** A downloaded model's files as a checkpoint source (a file not downloaded is missing). */
export function storedSource(store: PartStore, base: string, label: string): FileSource {
  return {
    label,
    read: (path) => storedFile(store, base + path),
    length: async (path) => {
      const known = await store.get(sizeKey(base + path));
      return (known && sizeRecord(known)?.size) ?? null;
    },
  };
}

export interface CachedModel {
  /** The base URL of its files (endpoint, id, revision). */
  base: string;
  /** Bytes stored, and the bytes of every file begun (equal once complete). */
  bytes: number;
  total: number;
}

/**
 * What the store holds, by model (base URL): one pass over the store's keys, whatever size a
 * record claims (a record this downloader could not have written counts as nothing).
 */
export async function cachedModels(store: PartStore): Promise<CachedModel[]> {
  const keys = await store.keys();
  const parts = new Map<string, number[]>(); // url → stored part indices
  for (const key of keys) {
    const m = /^(.*)\?cai-part=(\d+)$/.exec(key);
    if (!m) continue;
    const list = parts.get(m[1]!) ?? [];
    list.push(Number(m[2]));
    parts.set(m[1]!, list);
  }
  const byBase = new Map<string, CachedModel>();
  for (const key of keys) {
    if (!key.endsWith('?cai-size')) continue;
    const url = key.slice(0, -'?cai-size'.length);
    const known = await store.get(key);
    const size = known && sizeRecord(known);
    if (!size) continue;
    const base = url.slice(0, url.lastIndexOf('/') + 1);
    const count = partCount(size);
    const stored = (parts.get(url) ?? [])
      .filter((i) => i < count)
      .reduce((n, i) => n + partLength(size, i), 0);
    const entry = byBase.get(base) ?? { base, bytes: 0, total: 0 };
    entry.bytes += stored;
    entry.total += size.size;
    byBase.set(base, entry);
  }
  return [...byBase.values()];
}

/** Deletes a model's files from the store (all models when `base` is null). */
export async function deleteCached(store: PartStore, base: string | null): Promise<void> {
  for (const key of await store.keys())
    if (base === null || key.startsWith(base)) await store.delete(key);
}
