/**
 * The engine's requests about checkpoints from outside the app: a Hub model's inspection (its
 * config and weight headers, after the user asked), its download into the browser's cache,
 * the cache's contents and deletion, and the sources a policy loads from (the cache, or files
 * the user picked). Pure functions of the request; the worker wires them in.
 */
import { parseModelRef } from '../domain/model-id.ts';
import type { FileSource } from '../model/checkpoints/checkpoint.ts';
import { HubDownloader } from '../model/checkpoints/download.ts';
import {
  cacheStore,
  cachedModels,
  deleteCached,
  storedSource,
  type CachedModel,
} from '../model/checkpoints/part-store.ts';
import { hubRefBase, type HubRef } from '../model/checkpoints/hub.ts';
import {
  inspectCheckpoint,
  inspectLines,
  type InspectResult,
} from '../model/checkpoints/inspect.ts';
import { urlSource } from '../model/checkpoints/load.ts';
import type { LoraConfig } from '../model/adapters/lora-config.ts';
import { wasmHeapBytes, type PlanShape } from '../model/memory-plan.ts';
import { formatBytes } from '../util/format-bytes.ts';
import type { RequestContext } from './serve.ts';

const label = (ref: HubRef) => `the Hub model ${ref.id}`;

/** A Hub ref's id is a plain "owner/name" and its revision one a reference may name. */
function checkRef(ref: HubRef): void {
  const parsed = parseModelRef(`${ref.id}@${ref.revision}`);
  if (ref.id.includes('@') || parsed?.kind !== 'hub')
    throw new Error(
      `"${ref.id}" at "${ref.revision}" is not a Hugging Face id like "owner/name" at a revision.`,
    );
}

/** The config and the weights' headers only (Range requests), and the memory plan. */
export async function inspectHub(
  ref: HubRef,
  shape: PlanShape,
  lora: LoraConfig | null,
  backend: string,
  /** The GPU device's largest buffer it may bind (null off WebGPU). */
  maxTensorBytes: number | null,
): Promise<InspectResult> {
  checkRef(ref);
  const report = await inspectCheckpoint(urlSource(hubRefBase(ref), label(ref)), {
    lora,
    shape,
    limits: {
      backend,
      totalBytes: backend === 'wasm' ? wasmHeapBytes : null,
      maxTensorBytes,
    },
  });
  return {
    config: report.config,
    lines: inspectLines(report),
    fits: report.plan.fits,
    parameters: report.parameters,
    storedBytes: report.storedBytes,
  };
}

/** The browser's storage left for this origin (quota − usage), or null where it is not told. */
async function storageLeft(): Promise<number | null> {
  const estimate = await globalThis.navigator?.storage?.estimate?.();
  if (!estimate || estimate.quota === undefined) return null;
  return estimate.quota - (estimate.usage ?? 0);
}

/**
 * Downloads (or resumes) a Hub model into the cache, with `progress` events in bytes. Refused
 * before any weight is fetched when `inspect`'s memory plan says the model does not fit, or
 * when the bytes still missing exceed the storage the browser says is left.
 */
export async function downloadHub(
  ref: HubRef,
  inspect: () => Promise<InspectResult>,
  ctx: RequestContext,
): Promise<{ bytes: number }> {
  checkRef(ref);
  const plan = await inspect();
  if (!plan.fits)
    throw new Error(
      `${ref.id} will not fit on this backend, so nothing was downloaded. ${plan.lines.at(-1)?.trim()}`,
    );
  const downloader = new HubDownloader(hubRefBase(ref), await cacheStore(), fetch, ctx.signal);
  const room = async (missing: number, total: number) => {
    const left = await storageLeft();
    if (left !== null && missing > left)
      throw new Error(
        `${ref.id} needs ${formatBytes(missing)} more of this browser's storage (${formatBytes(total)} in all), and the browser says ${formatBytes(left)} is left, so nothing more was downloaded. Delete models from the cache below, or free space, then Download again.`,
      );
  };
  const sizes = await downloader.policy(
    (p) =>
      ctx.emit({
        status: 'progress',
        done: p.loaded,
        total: p.total,
        message: `${p.file}${p.rate ? `, ${formatBytes(p.rate)}/s` : ''}`,
      }),
    room,
  );
  return { bytes: Object.values(sizes).reduce((a, b) => a + b, 0) };
}

export async function modelCache(): Promise<{ models: CachedModel[] }> {
  return { models: await cachedModels(await cacheStore()) };
}

export async function deleteFromCache(base: string | null): Promise<{ models: CachedModel[] }> {
  const store = await cacheStore();
  await deleteCached(store, base);
  return { models: await cachedModels(store) };
}

/** A downloaded Hub model's files, from the cache (an error if a file is missing). */
export async function cachedHubSource(ref: HubRef): Promise<FileSource> {
  checkRef(ref);
  const source = storedSource(await cacheStore(), hubRefBase(ref), `${label(ref)} (downloaded)`);
  if (!(await source.read('config.json')))
    throw new Error(
      `${label(ref)} is not downloaded yet (from ${ref.endpoint}): download it under “Your own policy” (it shows the size first, and can be cancelled), then run again.`,
    );
  return source;
}

/** Files the user picked or dropped, by name (a folder's files, or a checkpoint's). */
export function pickedFilesSource(files: File[]): FileSource {
  const byName = new Map(
    files.map((f) => [f.webkitRelativePath.split('/').slice(1).join('/') || f.name, f]),
  );
  const find = (path: string) => byName.get(path) ?? files.find((f) => f.name === path);
  return {
    label: 'the files you picked',
    read: async (path) => {
      const file = find(path);
      return file ? new Uint8Array(await file.arrayBuffer()) : null;
    },
    length: async (path) => find(path)?.size ?? null,
  };
}
