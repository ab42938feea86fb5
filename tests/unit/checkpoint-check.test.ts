import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { weightFiles, type FileSource } from '../../src/lib/model/checkpoints/checkpoint.ts';
import { folderSource } from '../../scripts/lib/folder-source.ts';
import { loraConfigOfPeft, parsePeftConfig } from '../../src/lib/model/checkpoints/peft.ts';
import { PolicySession } from '../../src/lib/model/generation/policy-session.ts';
import { useCpu } from './tf-setup.ts';
import {
  checkFileName,
  checkFinite,
  checkHeaderEntries,
  topLevelKeys,
  type RawEntry,
} from '../../src/lib/model/checkpoints/checkpoint-check.ts';

beforeAll(useCpu);

const entry = (dtype: unknown, shape: unknown, offsets: unknown): RawEntry => ({
  dtype,
  shape,
  data_offsets: offsets,
});

describe('the checkpoint check', () => {
  test('file names stay inside the folder', () => {
    for (const ok of ['model.safetensors', 'model-00001-of-00002.safetensors', 'onnx/model.onnx'])
      expect(checkFileName(ok, 'the index')).toBe(ok);
    const hostile = [
      '../../../../../../dev/zero',
      '../sibling/model.safetensors',
      '/etc/passwd',
      'a/../../b',
      './model.safetensors',
      'C:\\x',
      'https://elsewhere.example/x',
      'x?y=1',
      'x#y',
      '',
      'a//b',
      42,
      null,
    ];
    for (const name of hostile)
      expect(() => checkFileName(name, 'model.safetensors.index.json')).toThrow(
        /model\.safetensors\.index\.json names the file .* not a plain file name inside the model's folder/,
      );
  });

  test('top-level keys keep repeats and skip nested ones and strings', () => {
    const text =
      '{"a":{"dtype":"F32","shape":[1],"x":"\\"b\\":"},"__metadata__":{"k":"v"},"a":{"y":[{"z":1}]}}';
    expect(topLevelKeys(text)).toEqual(['a', '__metadata__', 'a']);
    expect(topLevelKeys('{}')).toEqual([]);
    expect(topLevelKeys('{"só \\u00e9":1, "b" : 2}')).toEqual(['só é', 'b']);
  });

  test('header entries: dtype, shape, offsets, length and overlaps, each named', () => {
    const where = 'model.safetensors of the folder x';
    const ok: [string, RawEntry][] = [
      ['a', entry('F32', [2, 3], [0, 24])],
      ['b', entry('BF16', [4], [24, 32])],
      ['empty', entry('F16', [0], [32, 32])],
    ];
    expect(() => checkHeaderEntries(ok, where, 32)).not.toThrow();
    const cases: [[string, RawEntry][], number | null, RegExp][] = [
      [[['a', entry('I64', [1], [0, 8])]], null, /tensor "a" has dtype "I64"; only F32, F16, BF16/],
      [[['a', entry('F32', [1.5], [0, 4])]], null, /"a" has the shape \[1.5\]/],
      [[['a', entry('F32', [-1], [0, 4])]], null, /"a" has the shape \[-1\]/],
      [[['a', entry('F32', 'x', [0, 4])]], null, /"a" has the shape "x"/],
      [[['a', entry('F32', [1], [0])]], null, /"a" has data_offsets \[0\]/],
      [[['a', entry('F32', [1], [8, 4])]], null, /"a" lies outside the file/],
      [[['a', entry('F32', [1], [0, 4])]], 2, /"a" lies outside the file/],
      [[['a', entry('F32', [2], [0, 4])]], null, /"a" has shape \[2\] but 1 values/],
      [
        [
          ['a', entry('F32', [4], [0, 16])],
          ['b', entry('F32', [1], [12, 16])],
        ],
        null,
        /tensor "b" overlaps "a"/,
      ],
      [
        [
          ['big', entry('F32', [8], [0, 32])],
          ['x', entry('F32', [1], [4, 8])],
          ['y', entry('F32', [1], [20, 24])],
        ],
        null,
        /overlaps "big"/,
      ],
    ];
    for (const [entries, bytes, message] of cases) {
      expect(() => checkHeaderEntries(entries, where, bytes)).toThrow(message);
      expect(() => checkHeaderEntries(entries, where, bytes)).toThrow(
        /^model\.safetensors of the folder x: /,
      );
    }
  });

  test('non-finite weights are named with their place', () => {
    expect(() => checkFinite('w', Float32Array.of(1, 2, 3), 'f')).not.toThrow();
    expect(() => checkFinite('w', Float32Array.of(1, NaN), 'model.safetensors')).toThrow(
      'model.safetensors: tensor "w" holds NaN at value 1',
    );
    expect(() => checkFinite('w', Float32Array.of(-Infinity), 'f')).toThrow(
      /holds -Infinity at value 0/,
    );
  });
});

describe('errors name what was wrong (issue 35, item 11)', () => {
  const config = JSON.parse(readFileSync('models/tiny-cai/config.json', 'utf8')) as Record<
    string,
    unknown
  >;
  const files = (changes: Record<string, string>): FileSource => {
    const all: Record<string, Uint8Array> = {
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.safetensors': new Uint8Array(readFileSync('models/tiny-cai/model.safetensors')),
      'tokenizer.json': new Uint8Array(readFileSync('models/tiny-cai/tokenizer.json')),
      'tokenizer_config.json': new Uint8Array(
        readFileSync('models/tiny-cai/tokenizer_config.json'),
      ),
    };
    for (const [k, v] of Object.entries(changes)) all[k] = new TextEncoder().encode(v);
    return { label: 'the folder x/', read: async (p) => all[p] ?? null };
  };

  test('keys that are names of JavaScript built-ins are unknown keys, not crashes', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(() =>
        parseModelConfig(JSON.parse(`{${JSON.stringify(key)}: 1, "vocab_size": 8}`)),
      ).toThrow(`config.json: the key "${key}" is not understood`);
    expect(() => parseModelConfig({ ...config, model_type: 'constructor' })).toThrow(
      'model_type "constructor" is not supported',
    );
    expect(() => loraConfigOfPeft({ r: 8, target_modules: ['q_proj'], toString: 1 })).toThrow(
      'the key "toString" is not understood',
    );
    expect(() => parsePeftConfig('null')).toThrow('adapter_config.json is not a JSON object');
  });

  test('JSON files that are not objects, and a broken tokenizer, are named', async () => {
    await expect(PolicySession.fromSource('p', files({ 'config.json': 'null' }))).rejects.toThrow(
      'config.json of the folder x/ is not a JSON object.',
    );
    await expect(
      PolicySession.fromSource('p', files({ 'tokenizer.json': '<!doctype html>' })),
    ).rejects.toThrow('tokenizer.json of the folder x/ is not valid JSON');
    await expect(
      PolicySession.fromSource('p', files({ 'tokenizer.json': '{"model": {"type": "Nope"}}' })),
    ).rejects.toThrow(
      'tokenizer.json and tokenizer_config.json of the folder x/ do not make a tokenizer',
    );
  });
});

test('a folder on disk reads nothing outside itself, whatever an index names (item 2)', async () => {
  const folder = folderSource('models/tiny-cai');
  for (const path of ['../../../../../../dev/zero', '../tiny-cai-other/x', '/etc/passwd'])
    await expect(folder.read(path)).rejects.toThrow(/lies outside the folder .*; it is not read/);
  expect((await folder.read('config.json'))!.byteLength).toBeGreaterThan(0);
  const index = { weight_map: { 'model.norm.weight': '../../../../../../dev/zero' } };
  const source: FileSource = {
    label: 'the folder y/',
    read: async (p) =>
      p === 'model.safetensors.index.json' ? new TextEncoder().encode(JSON.stringify(index)) : null,
  };
  await expect(weightFiles(source)).rejects.toThrow(
    'model.safetensors.index.json of the folder y/ (for "model.norm.weight") names the file "../../../../../../dev/zero"',
  );
});
