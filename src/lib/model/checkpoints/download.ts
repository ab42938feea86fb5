/**
 * Downloads of Hub checkpoints into the browser's cache (Cache Storage), in parts fetched with
 * Range requests, so a cancelled or interrupted download resumes where it stopped and a model
 * downloaded once is never fetched again. Only ever started by the user's click.
 */
import { describeError } from '../../domain/errors.ts';
import { indexFile, weightsFile } from './checkpoint.ts';
import {
  deleteFile,
  maxFileBytes,
  partBytes,
  partCount,
  partKey,
  partLength,
  sizeKey,
  sizeRecord,
  storedFile,
  type FileSize,
  type PartStore,
} from './part-store.ts';
import { checkFileName } from './checkpoint-check.ts';
import { headerLength, safetensorsHeader } from './safetensors.ts';

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

/** How long a transfer may go without a byte before it is given up (Download resumes it). */
export const stallMs = 30_000;

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
    if (this.signal.aborted) stall.abort(); // cancelled before this request began
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
