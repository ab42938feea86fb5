/**
 * Downloads of Hub checkpoints into the browser's cache (Cache Storage), in parts fetched with
 * Range requests, so a cancelled or interrupted download resumes where it stopped and a model
 * downloaded once is never fetched again. Only ever started by the user's click.
 */
import { describeError } from '../../domain/errors.ts';
import { indexFile, weightsFile, type FileSource } from './checkpoint.ts';

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

interface FileSize {
  size: number;
  /** Whether the server answered the first Range request with a part (else it sent it all). */
  ranged: boolean;
}

/** How many parts a file is stored in (one when its server ignored Range). */
const partCount = (size: FileSize) =>
  size.ranged ? Math.max(1, Math.ceil(size.size / partBytes)) : 1;

export class HubDownloader {
  private readonly started = performance.now();
  private fetched = 0;

  constructor(
    private readonly base: string,
    private readonly store: PartStore,
    private readonly fetchFn: typeof fetch,
    private readonly signal: AbortSignal,
  ) {}

  private async get(url: string, range?: [number, number]): Promise<Response | null> {
    let response: Response;
    try {
      const fetchFn = this.fetchFn; // called unbound: the global fetch refuses another `this`
      response = await fetchFn(url, {
        signal: this.signal,
        cache: 'no-store',
        ...(range ? { headers: { Range: `bytes=${range[0]}-${range[1] - 1}` } } : {}),
      });
    } catch (error) {
      if (this.signal.aborted) throw new Error('Cancelled.');
      throw new Error(`Could not download ${url}: ${describeError(error)}`);
    }
    if (response.status === 404) return null;
    if (!response.ok)
      throw new Error(`Could not download ${url}: the server answered HTTP ${response.status}.`);
    return response;
  }

  /** A file's size, from the store or from its first part (which is then stored). */
  private async size(url: string): Promise<FileSize | null> {
    const known = await this.store.get(sizeKey(url));
    if (known) return JSON.parse(new TextDecoder().decode(known)) as FileSize;
    const response = await this.get(url, [0, partBytes]);
    if (!response) return null;
    const bytes = new Uint8Array(await response.arrayBuffer());
    this.fetched += bytes.byteLength;
    const range = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
    const entry: FileSize =
      response.status === 206 && range
        ? { size: Number(range[1]), ranged: true }
        : { size: bytes.byteLength, ranged: false };
    await this.store.put(partKey(url, 0), bytes);
    await this.store.put(sizeKey(url), new TextEncoder().encode(JSON.stringify(entry)));
    return entry;
  }

  /** Fetches the missing parts of one file, reporting bytes as parts arrive. */
  private async fetchFile(url: string, size: FileSize, onBytes: (n: number) => void) {
    for (let i = 0; i < partCount(size); i++) {
      const key = partKey(url, i);
      const length = Math.min(partBytes, size.size - i * partBytes);
      if (!(await this.store.get(key))) {
        const response = await this.get(url, [i * partBytes, i * partBytes + length]);
        if (!response) throw new Error(`${url} disappeared from the server during the download.`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (response.status !== 206 || bytes.byteLength !== length)
          throw new Error(
            `${url}: the server did not send bytes ${i * partBytes}-${i * partBytes + length - 1} (resume it later).`,
          );
        this.fetched += bytes.byteLength;
        await this.store.put(key, bytes);
      }
      onBytes(size.ranged ? length : size.size);
    }
  }

  /** Downloads (or finds in the store) every file a policy needs; resolves to their sizes. */
  async policy(onProgress: (p: DownloadProgress) => void): Promise<Record<string, number>> {
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
      const index = JSON.parse(new TextDecoder().decode(await this.file(indexFile)));
      weights = [...new Set(Object.values(index.weight_map ?? {}) as string[])].sort();
    }
    for (const file of weights) {
      const size = await this.size(this.base + file);
      if (!size) throw new Error(`The Hub model has no ${file}.`);
      sizes.set(file, size);
    }
    const total = [...sizes.values()].reduce((n, s) => n + s.size, 0);
    let loaded = 0;
    for (const [file, size] of sizes)
      await this.fetchFile(this.base + file, size, (n) => {
        loaded += n;
        const seconds = (performance.now() - this.started) / 1000;
        onProgress({ file, loaded, total, rate: seconds > 0 ? this.fetched / seconds : 0 });
      });
    return Object.fromEntries([...sizes].map(([f, s]) => [f, s.size]));
  }

  /** One stored file, whole (null when the store does not have all of it). */
  async file(file: string): Promise<Uint8Array> {
    const bytes = await storedFile(this.store, this.base + file);
    if (!bytes) throw new Error(`${file} is not in the browser's cache yet.`);
    return bytes;
  }
}

/** A file assembled from its stored parts, or null when a part is missing. */
export async function storedFile(store: PartStore, url: string): Promise<Uint8Array | null> {
  const known = await store.get(sizeKey(url));
  if (!known) return null;
  const size = JSON.parse(new TextDecoder().decode(known)) as FileSize;
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
  return { label, read: (path) => storedFile(store, base + path) };
}

export interface CachedModel {
  /** The base URL of its files (endpoint, id, revision). */
  base: string;
  /** Bytes stored, and the bytes of every file begun (equal once complete). */
  bytes: number;
  total: number;
}

/** What the store holds, by model (base URL). */
export async function cachedModels(store: PartStore): Promise<CachedModel[]> {
  const keys = new Set(await store.keys());
  const byBase = new Map<string, CachedModel>();
  for (const key of keys) {
    if (!key.endsWith('?cai-size')) continue;
    const url = key.slice(0, -'?cai-size'.length);
    const base = url.slice(0, url.lastIndexOf('/') + 1);
    const known = await store.get(key);
    if (!known) continue;
    const size = JSON.parse(new TextDecoder().decode(known)) as FileSize;
    const parts = partCount(size);
    let stored = 0;
    for (let i = 0; i < parts; i++)
      if (keys.has(partKey(url, i)))
        stored += size.ranged ? Math.min(partBytes, size.size - i * partBytes) : size.size;
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
