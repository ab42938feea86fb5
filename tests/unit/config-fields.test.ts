import { describe, expect, test } from 'vitest';
import {
  band,
  bool,
  checkTable,
  choice,
  defaultsOf,
  fieldsOf,
  getAt,
  group,
  num,
  setAt,
  type FieldError,
} from '../../src/lib/config/fields.ts';
import { defaultStageConfigs, stageFields } from '../../src/lib/experiment/stage-configs.ts';
import { defaultPpoConfig, ppoFields } from '../../src/lib/training/ppo-config.ts';
import { fieldHelp, formatValue } from '../../src/lib/ui/editor/field-text.ts';

const table = {
  steps: num({
    label: 'Steps',
    default: 3,
    min: 1,
    max: 10,
    integer: true,
    unit: 'steps',
    help: 'How many.',
  }),
  rate: num({ label: 'Rate', default: 1e-5, min: 0, max: 1, help: 'How fast.' }),
  on: bool({ label: 'On', default: false, help: 'Whether.' }),
  mode: choice({
    label: 'Mode',
    values: ['a', 'b'],
    default: 'a',
    names: { a: 'A', b: 'B' },
    help: 'Which.',
  }),
  band: band({ label: 'Band', default: [0.4, 0.6], min: 0, split: 0.5, max: 1, help: 'Where.' }),
  inner: group('Inner', { t: num({ label: 'T', default: 0, min: 0, max: 5, help: 'Hot.' }) }),
} as const;

describe('field tables', () => {
  test('defaults, paths and values come from the table', () => {
    const d = defaultsOf(table);
    expect(d).toEqual({
      steps: 3,
      rate: 1e-5,
      on: false,
      mode: 'a',
      band: [0.4, 0.6],
      inner: { t: 0 },
    });
    expect(d.band).not.toBe(table.band.default); // a fresh copy
    expect(fieldsOf(table).map((f) => [f.path, f.groups])).toEqual([
      ['steps', []],
      ['rate', []],
      ['on', []],
      ['mode', []],
      ['band', []],
      ['inner.t', ['Inner']],
    ]);
    setAt(d, 'inner.t', 2);
    expect(getAt(d, 'inner.t')).toBe(2);
  });

  test('checks every field, names each problem, and refuses unknown keys', () => {
    const errors: FieldError[] = [];
    const good = checkTable(table, defaultsOf(table), 'x', errors);
    expect([good, errors]).toEqual([defaultsOf(table), []]);
    const bad = {
      steps: 2.5,
      rate: 2,
      on: 'yes',
      mode: 'c',
      band: [0.7, 0.6],
      inner: { t: 1, u: 1 },
      more: 1,
    };
    expect(checkTable(table, bad, 'x', errors)).toBeNull();
    expect(errors).toEqual([
      { path: 'x.steps', message: 'must be a whole number' },
      { path: 'x.rate', message: 'must be between 0 and 1' },
      { path: 'x.on', message: 'must be true or false' },
      { path: 'x.mode', message: 'must be "a" or "b"' },
      {
        path: 'x.band',
        message: 'must be two numbers [low, high], low between 0 and 0.5, high between 0.5 and 1',
      },
      { path: 'x.inner.u', message: 'is not a setting this app knows' },
      { path: 'x.more', message: 'is not a setting this app knows' },
    ]);
    const missing: FieldError[] = [];
    checkTable(table, { ...defaultsOf(table), inner: undefined, steps: undefined }, 'x', missing);
    expect(missing).toEqual([
      { path: 'x.steps', message: 'is missing' },
      { path: 'x.inner', message: 'must be an object' },
    ]);
  });

  test('the editor’s help states the default, unit and range from the table', () => {
    expect(fieldHelp(table.steps)).toBe('How many. Default 3 steps (1 to 10, whole numbers).');
    expect(fieldHelp(table.rate)).toBe('How fast. Default 1e-5 (0 to 1).');
    expect(fieldHelp(table.mode)).toBe('Which. Default A.');
    expect(fieldHelp(table.band)).toBe('Where. Default [0.4, 0.6] (low 0 to 0.5, high 0.5 to 1).');
    expect(formatValue(2e-4)).toBe('2e-4');
    const one = (unit: string) => fieldHelp({ ...table.steps, default: 1, unit });
    expect([one('passes'), one('answers')]).toEqual([
      'How many. Default 1 pass (1 to 10, whole numbers).',
      'How many. Default 1 answer (1 to 10, whole numbers).',
    ]);
  });

  test('the stage configs are the tables’ defaults, valid by their own tables', () => {
    expect(defaultStageConfigs).toEqual(defaultsOf(stageFields));
    expect(defaultPpoConfig.klCoef).toBe(ppoFields.klCoef.default);
    const errors: FieldError[] = [];
    checkTable(stageFields, defaultStageConfigs, 'stages', errors);
    expect(errors).toEqual([]);
    for (const { path, field } of fieldsOf(stageFields)) {
      expect(field.label, path).not.toBe('');
      expect(field.help.length, path).toBeGreaterThan(10);
      if (field.kind === 'number') {
        expect(field.default, path).toBeGreaterThanOrEqual(field.min);
        expect(field.default, path).toBeLessThanOrEqual(field.max);
      }
    }
    // Labels are unique: the editor finds each control by its label.
    const labels = fieldsOf(stageFields).map((f) => f.field.label);
    expect(new Set(labels).size).toBe(labels.length);
  });
});
