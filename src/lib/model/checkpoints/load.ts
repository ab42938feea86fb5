/**
 * Downloads the files of a model folder (the app's own /models/ folder, or, online and on the
 * user's click, the Hub), turning network and HTTP failures into readable errors, and checks
 * a folder of this app before a model library reads it: a missing folder or file, the app's
 * own page served in a file's place, a JSON file that is not JSON, each said in words.
 */
import { describeError } from '../../domain/errors.ts';
import type { FileSource } from './checkpoint.ts';

/** Why a response is not the file asked for, or null when it is. */
function notTheFile(response: Response): string | null {
  if (!response.ok) return `the server answered HTTP ${response.status}`;
  // A static host (and Vite) answers a missing path with the app's page.
  if ((response.headers.get('Content-Type') ?? '').includes('text/html'))
    return 'the server answered with a web page instead of the file';
  return null;
}

async function fetchChecked(url: string, init: RequestInit, fetchFn: typeof fetch) {
  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    throw new Error(`Could not download ${url}: ${describeError(error)}`);
  }
  const why = notTheFile(response);
  if (why) throw new Error(`Could not download ${url}: ${why}.`);
  return response;
}

/** The files each model library reads from a folder (JSON files are also parsed). */
export const modelFiles = {
  policy: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'],
  feedback: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'],
} as const;

/**
 * Checks that the app's model folder `id` holds every file the `role`'s library reads, each a
 * file (not the app's page) and each JSON file valid JSON; throws what is wrong and what to do.
 */
export async function checkModelFolder(
  id: string,
  role: keyof typeof modelFiles,
  fetchFn: typeof fetch = fetch,
): Promise<void> {
  const folder = `/models/${id}/`;
  const fail = (what: string) =>
    new Error(
      `The ${role} model "${id}" could not be loaded: ${what}. Check the model's name (this app ships "tiny-cai"; its model folders are served from /models/), or put the model's files in that folder.`,
    );
  for (const file of modelFiles[role]) {
    const json = file.endsWith('.json');
    let response: Response;
    try {
      // A large file's first bytes only (not HEAD: some servers answer HEAD with a body), and
      // kept out of the HTTP cache, which could hand the part to the library's full request.
      const part: RequestInit = { headers: { Range: 'bytes=0-7' }, cache: 'no-store' };
      response = await fetchFn(folder + file, json ? {} : part);
    } catch (error) {
      throw fail(`${folder}${file} could not be fetched (${describeError(error)})`);
    }
    const why = notTheFile(response);
    if (why && file === 'config.json')
      throw fail(`there is no model folder ${folder} (asked for its config.json, ${why})`);
    if (why) throw fail(`the folder ${folder} has no ${file} (${why})`);
    if (!json) {
      await response.arrayBuffer(); // read to the end, so the request ends normally
      continue;
    }
    try {
      JSON.parse(await response.text());
    } catch (error) {
      throw fail(`${folder}${file} is not valid JSON (${describeError(error)})`);
    }
  }
}

/**
 * The first `end` bytes of a response's body, then the rest left unread (the request is
 * cancelled): a server that ignores Range sends the whole file, and a header is a few KB of it.
 */
async function firstBytes(response: Response, end: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer()).subarray(0, end);
  const out = new Uint8Array(end);
  let at = 0;
  while (at < end) {
    const next = await reader.read();
    if (next.done) break;
    const take = Math.min(next.value.byteLength, end - at);
    out.set(next.value.subarray(0, take), at);
    at += take;
  }
  await reader.cancel();
  return out.subarray(0, at);
}

/**
 * The files under a base URL (ending in /) as a checkpoint source: a missing file is null (HTTP
 * 404, or a static host's page in its place); parts of files come by Range requests, reading no
 * more than the part even from a server that ignores Range; a file's length is what a Range
 * answer's Content-Range (or a whole answer's Content-Length) said.
 */
export function urlSource(base: string, label: string, fetchFn: typeof fetch = fetch): FileSource {
  const lengths = new Map<string, number>();
  return {
    label,
    async read(path) {
      let response: Response;
      try {
        response = await fetchFn(base + path);
      } catch (error) {
        throw new Error(`Could not download ${base + path}: ${describeError(error)}`);
      }
      if (response.status === 404) return null;
      const why = notTheFile(response);
      if (why && why.includes('web page')) return null;
      if (why) throw new Error(`Could not download ${base + path}: ${why}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
    async readRange(path, start, end) {
      const response = await fetchChecked(
        base + path,
        { headers: { Range: `bytes=${start}-${end - 1}` }, cache: 'no-store' },
        fetchFn,
      );
      const total =
        response.status === 206
          ? /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '')?.[1]
          : response.headers.get('Content-Length');
      if (total && Number.isSafeInteger(Number(total))) lengths.set(path, Number(total));
      if (response.status === 206) return firstBytes(response, end - start);
      // A server that ignores Range sends the whole file: read only as far as the part.
      return (await firstBytes(response, end)).subarray(start, end);
    },
    length: async (path) => lengths.get(path) ?? null,
  };
}
