/**
 * The browser's store of downloaded model files (Cache Storage): each file kept in parts of 4 MiB
 * under its URL with a query naming the part, beside a record of its size, so a download resumes
 * where it stopped; files assembled from their parts, a model's files as a checkpoint source,
 * what the store holds by model, and deletion. The downloader (download.ts) fills it.
 */
import type { FileSource } from './checkpoint.ts';

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

export const partKey = (url: string, i: number) => `${url}?cai-part=${i}`;
export const sizeKey = (url: string) => `${url}?cai-size`;

/** The largest file a download accepts (64 GiB): a size past it is a server's error or a lie. */
export const maxFileBytes = 64 * 2 ** 30;

export interface FileSize {
  size: number;
  /** Whether the server answered the first Range request with a part (else it sent it all). */
  ranged: boolean;
}

/** A stored size record, or null when it is not one this downloader could have written. */
export function sizeRecord(bytes: Uint8Array): FileSize | null {
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
export const partCount = (size: FileSize) =>
  size.ranged ? Math.max(1, Math.ceil(size.size / partBytes)) : 1;

/** Bytes of part `i` of a file. */
export const partLength = (size: FileSize, i: number) =>
  size.ranged ? Math.min(partBytes, size.size - i * partBytes) : size.size;

/** Deletes every stored part of one file and its size record. */
export async function deleteFile(store: PartStore, url: string): Promise<void> {
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
