import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubDownloader } from '../../src/lib/model/checkpoints/download.ts';
import {
  cachedModels,
  partBytes,
  type PartStore,
} from '../../src/lib/model/checkpoints/part-store.ts';
import { urlSource } from '../../src/lib/model/checkpoints/load.ts';
import { writeSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { listTensors } from '../../src/lib/model/checkpoints/checkpoint.ts';

/**
 * A hostile Hub on 127.0.0.1, the tests' own: each test sets what every path answers (lies about
 * sizes, web pages in a file's place, stalls, Range ignored) and reads which paths were asked.
 */
type Route = (req: IncomingMessage, res: ServerResponse) => void;
let routes: Record<string, Route> = {};
const asked: string[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    asked.push(path);
    const route = routes[path];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}/owner/model/resolve/main/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const repo = '/owner/model/resolve/main/';

/** Serves `bytes` honouring one Range (206 with Content-Range), or whole. */
const serve =
  (bytes: Uint8Array, type = 'application/octet-stream'): Route =>
  (req, res) => {
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    if (!m) {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length });
      res.end(bytes);
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), bytes.length - 1);
    res.writeHead(206, {
      'Content-Type': type,
      'Content-Range': `bytes ${start}-${end}/${bytes.length}`,
    });
    res.end(bytes.subarray(start, end + 1));
  };
const json = (value: unknown) => serve(new TextEncoder().encode(JSON.stringify(value)));

const weights = writeSafetensors(
  new Map([['w', { shape: [4], data: Float32Array.of(1, 2, 3, 4) }]]),
);
const policyRoutes = (): Record<string, Route> => ({
  [repo + 'config.json']: json({ model_type: 'llama' }),
  [repo + 'tokenizer.json']: json({ model: {} }),
  [repo + 'tokenizer_config.json']: json({}),
  [repo + 'model.safetensors']: serve(weights),
});

function memoryStore(): PartStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    get: async (k) => map.get(k) ?? null,
    put: async (k, v) => void map.set(k, v),
    keys: async () => [...map.keys()],
    delete: async (k) => void map.delete(k),
  };
}

const downloader = (store: PartStore, stallMs = 30_000) =>
  new HubDownloader(base, store, fetch, new AbortController().signal, stallMs);

describe('the Hub downloader against a hostile Hub', () => {
  test('a download that works: every file stored, the cache lists it whole', async () => {
    routes = policyRoutes();
    const store = memoryStore();
    const sizes = await downloader(store).policy(() => {});
    expect(sizes['model.safetensors']).toBe(weights.length);
    const [model] = await cachedModels(store);
    expect(model).toEqual({ base, bytes: model!.total, total: model!.total });
  });

  test('item 1: an overstated size is refused at once and never makes the cache loop', async () => {
    routes = policyRoutes();
    routes[repo + 'model.safetensors'] = (_req, res) => {
      res.writeHead(206, { 'Content-Range': 'bytes 0-4194303/1000000000000000' });
      res.end(new Uint8Array(partBytes));
    };
    const store = memoryStore();
    await expect(downloader(store).policy(() => {})).rejects.toThrow(
      /model\.safetensors: the server says the file has 1000000000000000 bytes, past the 64 GiB/,
    );
    expect([...store.map.keys()].some((k) => k.includes('model.safetensors'))).toBe(false);
    // A record that claims such a size (an older version wrote them) counts as nothing; one
    // that claims 60 GiB with two parts stored counts those two parts, not 15,360 lookups.
    store.map.set(
      `${base}x.safetensors?cai-size`,
      new TextEncoder().encode('{"size":1e15,"ranged":true}'),
    );
    const big = 60 * 2 ** 30;
    store.map.set(
      `${base}y.safetensors?cai-size`,
      new TextEncoder().encode(JSON.stringify({ size: big, ranged: true })),
    );
    store.map.set(`${base}y.safetensors?cai-part=0`, new Uint8Array(1));
    store.map.set(`${base}y.safetensors?cai-part=7`, new Uint8Array(1));
    const [model] = await cachedModels(store);
    expect(model!.bytes - (model!.total - big)).toBe(2 * partBytes);
  });

  test('item 2: a shard path leaving the repository is refused and never fetched', async () => {
    for (const hostile of [
      '../../other/resolve/main/model.safetensors',
      '/etc/passwd',
      'a/../../b',
    ]) {
      routes = {
        ...policyRoutes(),
        [repo + 'model.safetensors.index.json']: json({ weight_map: { w: hostile } }),
      };
      asked.length = 0;
      await expect(downloader(memoryStore()).policy(() => {})).rejects.toThrow(
        /model\.safetensors\.index\.json names the file .* not a plain file name inside the model's folder/,
      );
      expect(asked.filter((p) => !p.startsWith(repo))).toEqual([]);
    }
  });

  test("item 6: the room check refuses before any weight byte past the header's part", async () => {
    routes = policyRoutes();
    const store = memoryStore();
    const seen: number[] = [];
    const room = async (missing: number, total: number) => {
      seen.push(missing, total);
      throw new Error('No room.');
    };
    await expect(downloader(store).policy(() => {}, room)).rejects.toThrow('No room.');
    // Only first parts (sizes, headers) were fetched: here every file fits in its first part.
    expect(seen[0]).toBe(0);
    expect(seen[1]).toBeGreaterThan(weights.length);
  });

  test('item 9: a web page or garbage in place of a file is refused and not kept', async () => {
    const page = new TextEncoder().encode('<!DOCTYPE html><html><body>Sign in</body></html>');
    routes = { ...policyRoutes(), [repo + 'config.json']: serve(page, 'text/html') };
    let store = memoryStore();
    await expect(downloader(store).policy(() => {})).rejects.toThrow(
      /config\.json of the Hub model came as a web page, not the file/,
    );
    expect(store.map.size).toBe(0);
    routes = {
      ...policyRoutes(),
      [repo + 'tokenizer.json']: serve(new TextEncoder().encode('nope')),
    };
    store = memoryStore();
    await expect(downloader(store).policy(() => {})).rejects.toThrow(
      /tokenizer\.json of the Hub model is not a JSON object \(it begins "nope"\)/,
    );
    expect([...store.map.keys()].some((k) => k.includes('tokenizer.json'))).toBe(false);
    routes = { ...policyRoutes(), [repo + 'model.safetensors']: serve(page) };
    await expect(downloader(memoryStore()).policy(() => {})).rejects.toThrow(/came as a web page/);
    const padded = new Uint8Array(weights.length + 8);
    padded.set(weights);
    routes = { ...policyRoutes(), [repo + 'model.safetensors']: serve(padded) };
    await expect(downloader(memoryStore()).policy(() => {})).rejects.toThrow(
      `model.safetensors of the Hub model has ${weights.length + 8} bytes, but its header describes ${weights.length}`,
    );
  });

  test('item 9: a stalled body is given up after the stall time, and Download resumes', async () => {
    routes = policyRoutes();
    routes[repo + 'model.safetensors'] = (_req, res) => {
      res.writeHead(206, { 'Content-Range': `bytes 0-${weights.length - 1}/${weights.length}` });
      res.write(weights.subarray(0, 10)); // then nothing more
    };
    const store = memoryStore();
    await expect(downloader(store, 300).policy(() => {})).rejects.toThrow(
      /no byte came for 0\.3 s, so the transfer was given up\. Download again to resume/,
    );
    routes = policyRoutes();
    await expect(downloader(store, 300).policy(() => {})).resolves.toBeDefined();
  });
});

describe('Check reads headers only', () => {
  test('item 7: from a server that ignores Range, only the header bytes are read', async () => {
    // An endless body: reading the whole file would never end.
    const header = weights.subarray(
      0,
      8 + Number(new DataView(weights.buffer).getBigUint64(0, true)),
    );
    let sent = 0;
    routes = {
      [repo + 'config.json']: json({}),
      [repo + 'model.safetensors']: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.write(header);
        sent = header.length;
        const more = setInterval(() => {
          if (res.destroyed) return clearInterval(more);
          res.write(new Uint8Array(64 * 1024));
          sent += 64 * 1024;
        }, 5);
        res.on('close', () => clearInterval(more));
      },
    };
    const files = await listTensors(urlSource(base, 'the stand-in'));
    expect(files[0]!.entries.map((e) => e.name)).toEqual(['w']);
    expect(sent).toBeLessThan(16 * 2 ** 20);
  });
});

test('a download cancelled before it starts asks the Hub nothing', async () => {
  routes = policyRoutes();
  asked.length = 0;
  const cancelled = new AbortController();
  cancelled.abort();
  const d = new HubDownloader(base, memoryStore(), fetch, cancelled.signal);
  await expect(d.policy(() => {})).rejects.toThrow('Cancelled.');
  expect(asked).toEqual([]);
});
