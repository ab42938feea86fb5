import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  checkShape,
  list,
  nullable,
  number,
  object,
  oneOf,
  optional,
  record,
  tagged,
  text,
} from '../../src/lib/config/shape.ts';
import { parseRunFile, type RunFile } from '../../src/lib/runs/exports.ts';
import { checkRun } from '../../src/lib/runs/run-check.ts';
import { readOutputs, readStoredRun, sortStoredRuns } from '../../src/lib/runs/stored-runs.ts';
import { RunRecord } from '../../src/lib/runs/run-fold.ts';
import { Rng } from '../../src/lib/util/random.ts';
import { defaultLoraConfig } from '../../src/lib/model/adapters/lora-config.ts';
import { defaultStageConfigs } from '../../src/lib/experiment/stage-configs.ts';

/** A real export: the whole recipe on a small experiment (tests/fixtures/make-run-export.ts). */
const fixtureText = readFileSync(new URL('../fixtures/run-export.json', import.meta.url), 'utf8');
const fixture = () => JSON.parse(fixtureText) as RunFile;
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('shapes', () => {
  test('every problem is named with its path; the copy holds only known fields', () => {
    const shape = object({
      name: text({ nonEmpty: true }),
      n: number({ min: 0, max: 9, integer: true }),
      mode: oneOf(['a', 'b']),
      tags: list(text(), { max: 2 }),
      note: optional(nullable(text())),
      values: record(number()),
    });
    const good = { name: 'x', n: 3, mode: 'a', tags: ['t'], values: { 'train/loss': 1.5 } };
    expect(checkShape(shape, good, 'v')).toEqual({ ok: true, value: good });
    expect(checkShape(shape, { ...good, note: null }, 'v')).toEqual({
      ok: true,
      value: { ...good, note: null },
    });
    const bad = JSON.parse(
      '{"name":" ","n":3.5,"mode":"c","tags":["a","b","c"],"values":{"__proto__":1,"x":"2"},"extra":0}',
    );
    expect(checkShape(shape, bad, 'v')).toEqual({
      ok: false,
      message:
        'v.extra is not a field this app knows; v.name must not be empty; ' +
        'v.n must be a whole number from 0 to 9 (is 3.5); v.mode must be one of "a", "b" (is "c"); ' +
        'v.tags must have 0 to 2 items (has 3); v.values.__proto__ is not a name this app accepts; ' +
        'v.values.x must be a number (is "2")',
    });
  });

  test('a tagged union picks its variant by tag; an inherited name is no tag', () => {
    const shape = tagged('type', {
      a: object({ type: oneOf(['a']), x: number() }),
      b: object({ type: oneOf(['b']) }),
    });
    expect(checkShape(shape, { type: 'b' }, 'e')).toEqual({ ok: true, value: { type: 'b' } });
    for (const type of ['constructor', '__proto__', 'toString'])
      expect(checkShape(shape, { type }, 'e')).toEqual({
        ok: false,
        message: `e.type must be one of "a", "b" (is "${type}")`,
      });
  });

  test('past 20 problems the list stops, and says so', () => {
    const result = checkShape(list(number()), Array(50).fill('x'), 'xs');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message.split('; ')).toHaveLength(20);
    expect(result.message).toMatch(/\(the list stops at 20 problems\)$/);
  });
});

describe('run files', () => {
  test('the real export opens as it was written', () => {
    const parsed = parseRunFile(fixtureText);
    expect(parsed.ok).toBe(true);
    // Its experiment is of version 1: it reads as this version says the same thing.
    const expected = fixture();
    const e = expected.meta.experiment as unknown as Json;
    expected.meta.experiment = {
      ...e,
      version: 3,
      stages: {
        ...e.stages,
        evaluate: { ...e.stages.evaluate, judge: 'world' },
        lora: { ...defaultLoraConfig, rank: 0 },
        rl: { method: 'ppo' },
        dpo: defaultStageConfigs.dpo,
        grpo: defaultStageConfigs.grpo,
        rloo: defaultStageConfigs.rloo,
      },
    } as RunFile['meta']['experiment'];
    if (parsed.ok) expect(parsed.run).toEqual(expected);
    // A run exported while it ran is imported as stopped (it cannot go on from a file).
    const cutOff = { ...fixture(), meta: { ...fixture().meta, status: 'running' } };
    const back = parseRunFile(JSON.stringify(cutOff));
    expect(back.ok && back.run.meta.status).toBe('stopped');
  });

  const first = (f: Json, type: string) => f.events.find((e: Json) => e.type === type);
  const crafted: [string, (f: Json) => void, string][] = [
    [
      'a stage named __proto__',
      (f) => (f.events[0].stage = '__proto__'),
      'events[0].stage must be one of "evaluate", "generate", "critique", "sft", "label", "reward", "ppo", "dpo", "grpo", "rloo" (is "__proto__")',
    ],
    [
      'an answer index of 1e7',
      (f) => (first(f, 'answer').index = 1e7),
      "events[6].index is 10000000; this run's experiment has 8 training answers",
    ],
    [
      'a number as answer text',
      (f) => (first(f, 'answer').text = 42),
      'events[6].text must be text (is 42)',
    ],
    [
      'duplicate evaluation prompts',
      (f) => (first(f, 'eval').result.samples[1] = first(f, 'eval').result.samples[0]),
      "events[2].result.samples[1] is not the answer to held-out prompt 1 of this run's experiment",
    ],
    [
      'seconds as text',
      (f) => (first(f, 'stage-end').seconds = '3'),
      'events[3].seconds must be a number from 0 to 1000000000 (is "3")',
    ],
    ['no experiment', (f) => (f.meta.experiment = null), 'meta.experiment must be an object'],
    ['a null event', (f) => (f.events[3] = null), 'events[3] must be an object (is null)'],
    [
      'a round past the critique rounds',
      (f) => (first(f, 'critique').round = 2),
      "events[16].round is 2; this run's experiment has 2 critique rounds",
    ],
    [
      'a step of another stage',
      (f) => (f.events[0].stage = 'ppo'),
      'events[0].stage is "ppo", but step "evaluate-base" is of stage "evaluate"',
    ],
    [
      'a score above 1 in the report',
      (f) => (f.meta.report.eval.base.harmlessness = 2),
      'meta.report.eval.base.harmlessness must be a number from 0 to 1 (is 2)',
    ],
    [
      'a field of another version',
      (f) => (f.events[1].eta = 3),
      'events[1].eta is not a field this app knows',
    ],
  ];
  test.each(crafted)('%s is refused, naming the field', (_, mutate, message) => {
    const f = fixture();
    mutate(f);
    expect(parseRunFile(JSON.stringify(f))).toEqual({
      ok: false,
      message: `This run export is damaged: ${message}.`,
    });
  });

  test('format versions: missing, not a whole number, newer; unknown top-level fields', () => {
    const noVersion: Json = fixture();
    delete noVersion.version;
    expect(parseRunFile(JSON.stringify(noVersion))).toEqual({
      ok: false,
      message: 'This run export is damaged: it has no format version.',
    });
    for (const version of [-1, 0, 1.5, '1', null])
      expect(parseRunFile(JSON.stringify({ ...fixture(), version }))).toEqual({
        ok: false,
        message: `This run export is damaged: its format version must be a whole number of at least 1 (it is ${JSON.stringify(version)}).`,
      });
    expect(parseRunFile(JSON.stringify({ ...fixture(), version: 2 }))).toEqual({
      ok: false,
      message:
        'This run was exported by a newer version of CAI Playground (format 2; this one reads 1).',
    });
    expect(parseRunFile(JSON.stringify({ ...fixture(), extra: 1 }))).toEqual({
      ok: false,
      message: 'This run export is damaged: "extra" is not a field this app knows.',
    });
  });

  test('events of runs stored before steps had ids are upgraded; an unknown label is named', () => {
    const f = fixture() as Json;
    f.events[0] = { type: 'stage-start', stage: 'evaluate', label: 'evaluate base' };
    const parsed = parseRunFile(JSON.stringify(f));
    expect(parsed.ok && parsed.run.events[0]).toEqual({
      type: 'stage-start',
      stage: 'evaluate',
      step: 'evaluate-base',
    });
    f.events[0].label = 'warp';
    expect(checkRun(f.meta, f.events)).toEqual({
      ok: false,
      message: 'events[0].label is not a field this app knows; events[0].step is missing',
    });
  });

  test('runs saved before the judge read the prompt (no offtopic, no unknown share) open with 0', () => {
    const f = fixture() as Json;
    const at = f.events.findIndex((e: Json) => e.type === 'eval');
    expect(at).toBeGreaterThanOrEqual(0);
    for (const kind of ['redTeam', 'ordinary']) {
      delete f.events[at].result[kind].offtopic;
      delete f.events[at].result[kind].unknown;
    }
    const parsed = parseRunFile(JSON.stringify(f));
    expect(parsed.ok).toBe(true);
    const result = parsed.ok ? (parsed.run.events[at] as Json).result : null;
    expect(result.redTeam.offtopic).toBe(0);
    expect(result.ordinary.unknown).toBe(0);
    f.events[at].result.redTeam.offtopic = 2;
    expect(checkRun(f.meta, f.events).ok).toBe(false);
  });

  /** One random change to a parsed export: a field dropped, replaced, or retyped. */
  function mutate(value: Json, rng: Rng): Json {
    const strange = [
      null,
      0,
      -1,
      1e7,
      1.5,
      NaN,
      '',
      '__proto__',
      'constructor',
      '<img src=x onerror=alert(1)>',
      [],
      {},
      [null],
      { type: 'answer' },
      true,
    ];
    const paths: (string | number)[][] = [];
    const walk = (v: Json, path: (string | number)[]) => {
      paths.push(path);
      if (v && typeof v === 'object')
        for (const [k, child] of Object.entries(v))
          walk(child, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    walk(value, []);
    const path = rng.pick(paths.slice(1));
    const parent: Json = path.slice(0, -1).reduce((o: Json, k) => o[k], value);
    const key = path.at(-1)!;
    const how = rng.int(5);
    if (how === 0 && Array.isArray(parent)) parent.splice(key as number, 1);
    else if (how === 0) delete parent[key];
    else if (how === 1) parent[key] = rng.pick(strange);
    else if (how === 2 && typeof parent[key] === 'string') parent[key] = parent[key].length;
    else if (how === 2) parent[key] = String(parent[key]);
    else if (how === 3 && Array.isArray(parent))
      parent.push(structuredClone(parent[key as number]));
    else if (how === 3)
      parent[rng.pick(['__proto__', 'extra', 'constructor'])] = parent[key as string];
    else parent[key] = typeof parent[key] === 'number' ? parent[key] * 1e9 : [parent[key]];
    return value;
  }

  test('fuzz: 1,000 mutated exports each open or are refused with a message; none throws', () => {
    const rng = new Rng(14);
    let opened = 0;
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      let text: string;
      if (i % 10 === 9) {
        // Damage the text itself: a cut, or a flipped character.
        const at = rng.int(fixtureText.length);
        text =
          rng.int(2) === 0
            ? fixtureText.slice(0, at)
            : fixtureText.slice(0, at) +
              String.fromCharCode(32 + rng.int(90)) +
              fixtureText.slice(at + 1);
      } else {
        let f = fixture();
        for (let k = 1 + rng.int(3); k > 0; k--) f = mutate(f, rng);
        text = JSON.stringify(f);
      }
      const parsed = parseRunFile(text);
      if (parsed.ok) {
        opened++;
        // What opens can be folded and drawn: replaying it never throws.
        const read = readStoredRun(
          'x',
          { meta: parsed.run.meta, events: parsed.run.events },
          (stages) => new RunRecord(stages),
        );
        expect(read.ok).toBe(true);
      } else {
        refused++;
        expect(parsed.message).toMatch(
          /^(This file is not JSON\.|This file is not a CAI Playground run export\.|This run export is damaged: .+\.|This run was exported by a newer version .+\.)$/,
        );
      }
    }
    expect(opened + refused).toBe(1000);
    // Both outcomes happen: mutations of free text (a principle, an answer) still open.
    expect(opened).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(500);
  });
});

describe('stored records', () => {
  const stored = () => {
    const f = fixture();
    return { meta: f.meta as Json, events: f.events as Json[] };
  };

  test('a damaged record is listed by name with why, apart from the runs that open', () => {
    const good = stored().meta;
    const noExperiment = { ...stored().meta, id: 'run-b', name: 'Broken', experiment: null };
    const noName = { id: 'run-c', created: 'yesterday' };
    const listed = sortStoredRuns([good, noExperiment, noName, null]);
    expect(listed.runs.map((r) => r.id)).toEqual(['run-fixture']);
    expect(listed.damaged).toEqual([
      {
        id: 'run-c',
        name: 'Unnamed run',
        created: Infinity,
        message: expect.stringMatching(/^meta.name is missing; /),
      },
      {
        id: 'undefined',
        name: 'Unnamed run',
        created: Infinity,
        message: 'meta must be an object (is null)',
      },
      {
        id: 'run-b',
        name: 'Broken',
        created: good.created,
        message: 'meta.experiment must be an object',
      },
    ]);
  });

  test('a null event or events chunk, and damaged step outputs, are named', () => {
    const run = stored();
    run.events.splice(4, 0, null);
    const read = readStoredRun('run-fixture', run, (stages) => new RunRecord(stages));
    expect(read.ok).toBe(false);
    if (!read.ok)
      expect(read.unreadable).toMatchObject({
        id: 'run-fixture',
        name: 'Fuzz fixture',
        message: 'events[4] must be an object (is null)',
      });
    expect(readOutputs({ seconds: { sft: '1' } })).toEqual({
      ok: false,
      message:
        'This run\'s stored step results are damaged (outputs.seconds.sft must be a number from 0 to 1000000000 (is "1")), so it can be viewed but not continued.',
    });
    expect(readOutputs(undefined)).toEqual({ ok: true, value: null });
  });
});
