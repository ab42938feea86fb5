import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, expect, test } from 'vitest';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { modelBytes } from '../../src/lib/model/architecture/parameters.ts';
import { loadModel, type FileSource } from '../../src/lib/model/checkpoints/checkpoint.ts';
import { inspectCheckpoint } from '../../src/lib/model/checkpoints/inspect.ts';
import { Rng } from '../../src/lib/util/random.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

/**
 * 1,000 mutations of the shipped tiny checkpoint: header bytes, the header's length, truncation,
 * data bytes, config.json values and a shard index. Every one either loads or is refused with an
 * Error that names the file at fault; none throws a raw TypeError/RangeError, none leaks a
 * tensor, none allocates past its config's model size, and `inspect` refuses every header
 * problem loading refuses (only values, which inspect never reads, may differ).
 */
const folder = 'models/tiny-cai/';
const original = {
  'config.json': new Uint8Array(readFileSync(folder + 'config.json')),
  'model.safetensors': new Uint8Array(readFileSync(folder + 'model.safetensors')),
};
const label = 'the fuzzed checkpoint';
const source = (files: Record<string, Uint8Array>): FileSource => ({
  label,
  read: async (path) => files[path] ?? null,
  length: async (path) => files[path]?.byteLength ?? null,
});
const headerEnd =
  8 + Number(new DataView(original['model.safetensors'].buffer).getBigUint64(0, true));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

const jsonChars = '{}[]",:0123456789-.eE aFnul\\';
const hostileValues = [0, -1, 1.5, 1e9, 1e300, -1e-9, null, 'x', true, [], {}];
const hostileNames = [
  '../x.safetensors',
  '/etc/passwd',
  'model.safetensors',
  'other.safetensors',
  '',
  7,
];

function mutate(rng: Rng): { files: Record<string, Uint8Array>; kind: string } {
  const files: Record<string, Uint8Array> = {
    'config.json': original['config.json'],
    'model.safetensors': original['model.safetensors'].slice(),
  };
  const w = files['model.safetensors']!;
  const roll = rng.int(10);
  if (roll < 4) {
    for (let n = 1 + rng.int(3); n > 0; n--)
      w[8 + rng.int(headerEnd - 8)] = jsonChars.charCodeAt(rng.int(jsonChars.length));
    return { files, kind: 'header bytes' };
  }
  if (roll < 5) {
    w[rng.int(8)] = rng.int(256);
    return { files, kind: 'header length' };
  }
  if (roll < 6) {
    files['model.safetensors'] = w.subarray(0, rng.int(w.length));
    return { files, kind: 'truncated' };
  }
  if (roll < 7) {
    for (let n = 1 + rng.int(8); n > 0; n--) w[headerEnd + rng.int(w.length - headerEnd)] = 0xff;
    return { files, kind: 'data bytes' };
  }
  if (roll < 9) {
    const config = JSON.parse(text(original['config.json'])) as Record<string, unknown>;
    const keys = Object.keys(config);
    config[keys[rng.int(keys.length)]!] = hostileValues[rng.int(hostileValues.length)];
    files['config.json'] = bytes(JSON.stringify(config));
    return { files, kind: 'config value' };
  }
  const header = JSON.parse(text(w.subarray(8, headerEnd))) as Record<string, unknown>;
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  const map = Object.fromEntries(names.map((n) => [n, 'model.safetensors'])) as Record<
    string,
    unknown
  >;
  map[names[rng.int(names.length)]!] = hostileNames[rng.int(hostileNames.length)];
  if (rng.chance(0.3)) map['model.ghost.weight'] = 'model.safetensors';
  files['model.safetensors.index.json'] = bytes(JSON.stringify({ weight_map: map }));
  return { files, kind: 'index' };
}

/** What a refusal must name: the file at fault or the checkpoint. */
const named = /config\.json|model\.safetensors|index\.json|the fuzzed checkpoint/;
const limits = { backend: 'cpu', totalBytes: null, maxTensorBytes: null };
const shape = { batch: 1, promptTokens: 8, answerTokens: 8 };

test('1,000 mutations of a real checkpoint: each loads or is refused with a message naming the file', async () => {
  const rng = new Rng(35);
  const counts: Record<string, { loaded: number; refused: number }> = {};
  const baseline = tf.memory().numTensors;
  for (let i = 0; i < 1000; i++) {
    const { files, kind } = mutate(rng);
    const tally = (counts[kind] ??= { loaded: 0, refused: 0 });
    const before = tf.memory().numBytes;
    let inspectError: Error | null = null;
    try {
      await inspectCheckpoint(source(files), { lora: null, shape, limits });
    } catch (error) {
      inspectError = error as Error;
    }
    try {
      const { model } = await loadModel(source(files), false);
      expect(tf.memory().numBytes - before).toBeLessThanOrEqual(modelBytes(model.config));
      model.dispose();
      tally.loaded++;
      if (inspectError)
        expect.fail(`#${i} (${kind}): inspect refused what loads: ${inspectError.message}`);
    } catch (error) {
      const e = error as Error;
      if (e.name === 'AssertionError') throw e;
      tally.refused++;
      const context = `#${i} (${kind}): ${e.constructor.name}: ${e.message}`;
      expect(e.constructor, context).toBe(Error);
      expect(e.message, context).toMatch(named);
      // Only a value inspect never reads (a NaN or infinite weight) may pass inspect.
      if (!inspectError) expect(e.message, context).toMatch(/holds (NaN|-?Infinity) at value/);
    }
    expect(tf.memory().numTensors).toBe(baseline);
  }
  for (const [kind, c] of Object.entries(counts))
    expect(c.loaded + c.refused, kind).toBeGreaterThan(40);
  // Both outcomes happen: data mutations mostly load (or hit a NaN); header ones mostly not.
  expect(counts['header bytes']!.refused).toBeGreaterThan(200);
  expect(counts['data bytes']!.loaded + counts['config value']!.loaded).toBeGreaterThan(10);
}, 300_000);

test("the config's sizes and constants are refused before anything is allocated (items 3, 4)", () => {
  const base = JSON.parse(text(original['config.json'])) as Record<string, unknown>;
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ num_hidden_layers: 1e6 }, /"num_hidden_layers" is 1000000, past 1024/],
    [{ max_position_embeddings: 1e7 }, /"max_position_embeddings" is 10000000, past 2097152/],
    [{ vocab_size: 0 }, /"vocab_size" must be a positive whole number \(it is 0\)/],
    [{ hidden_size: 128.5, head_dim: 64 }, /"hidden_size" must be a positive whole number/],
    [{ rope_theta: 0 }, /"rope_theta" must be positive \(it is 0\)/],
    [{ rms_norm_eps: -1 }, /"rms_norm_eps" must lie between 0 and 1 \(it is -1\)/],
  ];
  for (const [change, message] of refused)
    expect(() => parseModelConfig({ ...base, ...change })).toThrow(message);
  // Within every limit, and still past what a backend holds: refused by size, before reading.
  const wideJson = {
    ...base,
    num_hidden_layers: 1024,
    hidden_size: 8192,
    head_dim: 64,
    num_attention_heads: 128,
    num_key_value_heads: 128,
    intermediate_size: 32768,
  };
  expect(modelBytes(parseModelConfig(wideJson))).toBeGreaterThan(16 * 2 ** 30);
  const files = { ...original, 'config.json': bytes(JSON.stringify(wideJson)) };
  return expect(loadModel(source(files), true)).rejects.toThrow(
    /the fuzzed checkpoint: its config\.json describes a model of .* GiB as float32 .* more than the 16\.00 GiB this backend can hold\. Nothing was loaded/,
  );
});
