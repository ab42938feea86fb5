import { describe, expect, test } from 'vitest';
import {
  checkFileName,
  checkFinite,
  checkHeaderEntries,
  topLevelKeys,
  type RawEntry,
} from '../../src/lib/model/checkpoints/checkpoint-check.ts';

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
