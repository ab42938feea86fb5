/**
 * The TRL export of a fixed small run (tests/fixtures/run-export.json, a real run of the whole
 * recipe): every file's schema, config.yaml against the pinned TRL release's config fields, the
 * settings mapping's coverage, and the Python scripts compiled by python3.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { fieldsOf } from '../../src/lib/config/fields.ts';
import { runForExport } from '../../src/lib/export/run-source.ts';
import { settingMaps, trlVersion } from '../../src/lib/export/trl-setting-maps.ts';
import { trlProject, type ExportFile } from '../../src/lib/export/trl-project.ts';
import type { TrlExportInput } from '../../src/lib/export/trl-inputs.ts';
import { writeYaml } from '../../src/lib/export/yaml.ts';
import { peftConfigJson } from '../../src/lib/model/checkpoints/peft.ts';
import { realModelLora } from '../../src/lib/model/adapters/lora-config.ts';
import { writeSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { sftJsonl, type DatasetRun } from '../../src/lib/runs/exports.ts';
import { stageFields } from '../../src/lib/experiment/stage-configs.ts';

const fixture = readFileSync('tests/fixtures/run-export.json', 'utf8');
const pinned = JSON.parse(readFileSync('tests/fixtures/trl-1.9.0-fields.json', 'utf8')) as Record<
  string,
  string[]
>;
/** Each TRL section's config class: its own fields and the ones it inherits. */
const trainer = (own: string) => [
  ...pinned[own]!,
  ...pinned._BaseConfig!,
  ...pinned.TrainingArguments!,
];
const allowed: Record<string, string[]> = {
  sft: trainer('SFTConfig'),
  reward: trainer('RewardConfig'),
  ppo: trainer('PPOConfig'),
  dpo: trainer('DPOConfig'),
  grpo: trainer('GRPOConfig'),
  rloo: trainer('RLOOConfig'),
  lora: pinned.LoraConfig!,
};

/** The documented fields of each dataset. */
const documented: Record<string, string[]> = {
  'data/sft.jsonl': ['messages'],
  'data/preferences.jsonl': ['prompt', 'chosen', 'rejected', 'label', 'principle'],
  'data/critiques.jsonl': [
    'init_prompt',
    'init_response',
    'critic_prompt',
    'critic_response',
    'revision_prompt',
    'revision_response',
    'principle',
    'mode',
  ],
  'data/prompts.jsonl': ['prompt', 'kind', 'split'],
};

const text = (files: ExportFile[], path: string): string => {
  const file = files.find((f) => f.path === path);
  if (!file || typeof file.data !== 'string') throw new Error(`no text file ${path}`);
  return file.data;
};

function exportOf(change?: (input: TrlExportInput) => void): {
  input: TrlExportInput;
  files: ExportFile[];
} {
  const run = runForExport(fixture);
  const input: TrlExportInput = {
    experiment: run.experiment,
    records: run.records,
    adapter: null,
    modelFiles: { 'tiny-cai': { 'config.json': new Uint8Array([123, 125]) } },
    source: run.source,
  };
  change?.(input);
  return { input, files: trlProject(input) };
}

describe('TRL export of a fixed run', () => {
  const { input, files } = exportOf();
  const e = input.experiment;

  test('every JSONL row parses and has exactly the documented fields', () => {
    for (const [path, fields] of Object.entries(documented)) {
      const rows = text(files, path).trimEnd().split('\n');
      expect(rows.length, path).toBeGreaterThan(0);
      for (const row of rows) expect(Object.keys(JSON.parse(row)), path).toEqual(fields);
    }
    const sft = text(files, 'data/sft.jsonl')
      .trimEnd()
      .split('\n')
      .map((r) => JSON.parse(r));
    for (const { messages } of sft) {
      expect(messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
      expect(messages[1].content).not.toBe('');
    }
    // The run's 4 red-team prompts' final revisions and its 2 ordinary prompts' answers, each
    // sampled as many times as the run asked.
    expect(sft).toHaveLength(4 + 2 * e.stages.generate.helpfulSamples);
    const prefs = text(files, 'data/preferences.jsonl')
      .trimEnd()
      .split('\n')
      .map((r) => JSON.parse(r));
    expect(prefs).toHaveLength(input.records.preferences.length);
    for (const p of prefs) expect(p.label).toBeGreaterThanOrEqual(0.5);
    const critiques = text(files, 'data/critiques.jsonl').trimEnd().split('\n');
    expect(critiques).toHaveLength(e.prompts.redTeam.length * e.stages.critique.rounds);
    const prompts = text(files, 'data/prompts.jsonl')
      .trimEnd()
      .split('\n')
      .map((r) => JSON.parse(r));
    const count = (kind: string, split: string) =>
      prompts.filter((p) => p.kind === kind && p.split === split).length;
    expect(count('red-team', 'train')).toBe(e.prompts.redTeam.length);
    expect(count('ordinary', 'train')).toBe(e.prompts.ordinary.length);
    expect(count('red-team', 'held_out')).toBe(e.prompts.heldOut.redTeam.length);
    expect(count('ordinary', 'held_out')).toBe(e.prompts.heldOut.ordinary.length);
  });

  test('constitution.json has the principles and the six templates verbatim', () => {
    const c = JSON.parse(text(files, 'constitution.json'));
    expect(Object.keys(c)).toEqual(['principles', 'templates']);
    expect(c.principles).toEqual(e.constitution);
    expect(c.templates).toEqual(e.templates);
    expect(Object.keys(c.templates)).toHaveLength(6);
  });

  test('config.yaml parses and names only config fields of the pinned TRL release', () => {
    const config = parse(text(files, 'config.yaml')) as Record<string, Record<string, unknown>>;
    expect(config.trl_version).toBe(trlVersion);
    expect(trlVersion).toBe(pinned.trl);
    for (const [section, fields] of Object.entries(allowed)) {
      if (config[section] === null) continue;
      for (const key of Object.keys(config[section]!))
        expect(fields, `${section}.${key}`).toContain(key);
    }
    expect(config.lora).toBeNull(); // the fixture fine-tuned every weight
    expect(config.models).toEqual({ policy: 'models/tiny-cai', feedback: 'models/tiny-cai' });
    const s = e.stages;
    expect(config.sft!.learning_rate).toBe(s.sft.learningRate);
    expect(config.sft!.warmup_steps).toBe(s.sft.warmupRatio);
    expect(config.reward!.center_rewards_coefficient).toBe(s.reward.centering);
    expect(config.ppo!.kl_coef).toBe(s.ppo.klCoef);
    expect(config.ppo!.learning_rate).toBe(s.ppo.learningRate);
    expect(config.rloo!.beta).toBe(s.rloo.beta);
    expect(config.grpo!.num_generations).toBe(s.grpo.numGenerations);
    expect(config.grpo!.scale_rewards).toBe(s.grpo.scaleRewards);
    expect(config.dpo!.beta).toBe(s.dpo.beta);
    expect(config.dpo!.loss_type).toEqual(['sigmoid']);
    expect((config.cai as Record<string, Record<string, unknown>>).rl).toEqual({ method: 'ppo' });
    // 4 red-team prompts an iteration in 4 minibatches of 1, for 2 iterations.
    expect(config.ppo!.per_device_train_batch_size).toBe(1);
    expect(config.ppo!.total_episodes).toBe(8);
    const cai = config.cai as Record<string, Record<string, unknown>>;
    expect(cai.critique).toEqual({ mode: s.critique.mode, rounds: s.critique.rounds });
    expect(cai.labels!.cot_band).toEqual(s.label.cotBand);
    expect(cai.labels!.min_margin).toBe(s.label.minMargin);
  });

  test('a LoRA run exports its adapter and PEFT settings', () => {
    const lora = { ...realModelLora, targets: { ...realModelLora.targets, down_proj: false } };
    const weights = writeSafetensors(new Map([['w', { shape: [1], data: new Float32Array([1]) }]]));
    const { files: loraFiles } = exportOf((i) => {
      i.experiment = { ...i.experiment, stages: { ...i.experiment.stages, lora } };
      i.adapter = {
        'adapter_config.json': peftConfigJson(lora, 'models/tiny-cai'),
        'adapter_model.safetensors': weights,
      };
    });
    const config = parse(text(loraFiles, 'config.yaml')) as Record<string, Record<string, unknown>>;
    expect(config.lora).toEqual({
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0.05,
      use_rslora: false,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj'],
      task_type: 'CAUSAL_LM',
    });
    const adapter = loraFiles.filter((f) => f.path.startsWith('adapter/')).map((f) => f.path);
    expect(adapter).toEqual(['adapter/adapter_config.json', 'adapter/adapter_model.safetensors']);
    expect(text(loraFiles, 'README.md')).toContain('--policy adapter');
  });

  test('every stage setting maps to a TRL argument or a cai key, and nothing else is mapped', () => {
    expect(Object.keys(settingMaps).sort()).toEqual(
      fieldsOf(stageFields)
        .map((f) => f.path)
        .sort(),
    );
  });

  test('the README names the pinned version, both launch modes, OpenRLHF, verl and the gaps', () => {
    const readme = text(files, 'README.md');
    for (const phrase of [
      `trl==${trlVersion}`,
      'accelerate launch sl_cai.py',
      '--zero_stage 2',
      '--zero_stage 3',
      'OpenRLHF',
      'verl',
      'trl.experimental.ppo',
      'Value warm-up',
      'Soft labels',
    ])
      expect(readme).toContain(phrase);
  });

  test('python3 compiles the scripts (imports: TRL, transformers, datasets, peft, accelerate, torch) and runs their pure pieces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trl-export-'));
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), f.data);
    }
    const scripts = ['sl_cai.py', 'rl_cai.py', 'cai_common.py'].map((s) => join(dir, s));
    execFileSync('python3', ['-m', 'py_compile', ...scripts], { stdio: 'pipe' });
    const standard = ['argparse', 'json', 'math', 'random', 're', 'pathlib'];
    const allowedImports = [
      ...standard,
      ...['trl', 'transformers', 'datasets', 'peft', 'accelerate', 'torch'],
      'yaml', // PyYAML, a dependency of transformers and accelerate
      'cai_common',
    ];
    for (const script of scripts) {
      const source = readFileSync(script, 'utf8');
      const modules = [...source.matchAll(/^(?:from|import) ([a-z_]+)/gm)].map((m) => m[1]);
      expect(modules.length).toBeGreaterThan(0);
      for (const m of modules) expect(allowedImports, `${script}: ${m}`).toContain(m);
    }
    expect(text(files, 'rl_cai.py')).toContain(
      'from trl.experimental.ppo import PPOConfig, PPOTrainer',
    );

    // The scripts' pure pieces run, with stand-ins for the libraries this machine lacks: the
    // SFT set they build from chains is the one the playground builds (data/sft.jsonl).
    const round = (revision: string) => ({
      principle: 'Be kind.',
      mode: 'plain' as const,
      critique: 'c',
      revision,
      critiquePrompt: 'cp',
      revisionPrompt: 'rp',
    });
    const given: DatasetRun = {
      chains: [
        { prompt: 'p', answer: 'a', rounds: [round('r1'), round(' r2 ')] },
        { prompt: 'q', answer: 'b', rounds: [round('only')] },
      ],
      ordinary: [
        { prompt: 'o', text: 'h' },
        { prompt: 'o2', text: '  ' },
      ],
      preferences: [],
    };
    const probe = `
import json, sys, types
class Stub:
    def __call__(self, *a, **k): return lambda f: f
    def __getattr__(self, name): return Stub()
    def __or__(self, other): return self
    def __ror__(self, other): return self
class Module(types.ModuleType):
    def __getattr__(self, name): return Stub()
for name in ["torch", "yaml", "accelerate", "accelerate.utils", "peft", "transformers", "datasets",
             "trl", "trl.experimental", "trl.experimental.ppo"]:
    sys.modules[name] = Module(name)
sys.path.insert(0, sys.argv[1])
import cai_common as c, rl_cai as r, sl_cai as s
given = json.loads(sys.argv[2])
try:
    c.render("{question} {nope}", question="q")
    missing = None
except KeyError as e:
    missing = str(e)
print(json.dumps({
    "render": c.render("Q: {question} R: {response}", question="a", response="{b}"),
    "missing": missing,
    "constitution": c.format_constitution(["Be kind.", "Be honest."]),
    "principles": c.sample_principles(["A", "B", "C"], 2, 3, 7),
    "split": c.split_held_out(list(range(10)), 0.2, 5),
    "p": r.probability_of_a(-1.0, -2.0),
    "prefix": r.reasoning_prefix("It is safer. So the answer is (B)"),
    "redTeam": len(c.prompts_of("red-team")),
    "heldOut": len(c.prompts_of("ordinary", "held_out")),
    "sft": [s.sft_rows(given["chains"], given["ordinary"], every) for every in (False, True)],
}))
`;
    const out = JSON.parse(
      execFileSync('python3', ['-c', probe, dir, JSON.stringify(given)], {
        encoding: 'utf8',
        stdio: 'pipe',
      }),
    );
    expect(out.render).toBe('Q: a R: {b}');
    expect(out.missing).toContain('{nope}');
    expect(out.constitution).toBe('1. Be kind.\n2. Be honest.');
    expect(out.principles).toHaveLength(2);
    for (const round of out.principles) {
      expect(round).toHaveLength(3);
      for (const p of round) expect(['A', 'B', 'C']).toContain(p);
    }
    const [train, heldOut] = out.split as number[][];
    expect(heldOut).toHaveLength(2);
    expect([...train!, ...heldOut!].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(out.p).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(out.prefix).toBe('It is safer. So the answer is ');
    expect(out.redTeam).toBe(e.prompts.redTeam.length);
    expect(out.heldOut).toBe(e.prompts.heldOut.ordinary.length);
    const rows = (jsonl: string) =>
      jsonl
        .trimEnd()
        .split('\n')
        .map((r) => JSON.parse(r));
    expect(out.sft).toEqual([false, true].map((every) => rows(sftJsonl(given, every))));
    expect(out.sft[1]).toHaveLength(4); // r1, r2 and b's one round; the blank answer left out
  });
});

/** YAML texts as PyYAML reads them (TRL's scripts load config.yaml with it) when python3 has
 * it, else as the `yaml` package reads them; one python3 for all. */
function readBack(texts: string[]): unknown[] {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'pipe' });
  } catch {
    return texts.map((t) => parse(t));
  }
  const script =
    'import sys, json, yaml; print(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)]))';
  const input = JSON.stringify(texts);
  return JSON.parse(execFileSync('python3', ['-c', script], { input, encoding: 'utf8' }));
}

/** Run names a user could type or paste (issue 35, item 5: 8 of them broke PyYAML). */
const hostileNames = [
  'line\nbreak',
  'para\u2028graph',
  'next\u0085line',
  'nul\u0000byte',
  'del\u007fchar',
  'esc\u001b[31m',
  'tab\there',
  'quote " and \\ backslash',
  '# not a comment: really',
  '---\n...',
  '{ flow: [1, 2] }',
  'bom\ufeffinside',
  'crlf\r\nend',
  'c1 \u0090\u009f',
  'emoji 🧪 and ünïcode',
];

describe('YAML writer', () => {
  test('floats keep a point and a signed exponent, strings are quoted, comments follow', () => {
    const yaml = writeYaml(
      new Map([
        ['a', { value: 1e-7, comment: 'tiny' }],
        ['b', { value: 0.00001 }],
        ['c', { value: 'x: "y"' }],
        ['d', { value: new Map([['e', { value: [1, 'f'] }]]), comment: 'group' }],
        ['g', { value: null }],
        ['h', { value: 1e-10 }],
      ]),
    );
    expect(yaml).toBe(
      'a: 1.0e-7 # tiny\nb: 0.00001\nc: "x: \\"y\\""\n# group\nd:\n  e: [1, "f"]\ng: null\nh: 1.0e-10\n',
    );
    const back = { a: 1e-7, b: 0.00001, c: 'x: "y"', d: { e: [1, 'f'] }, g: null, h: 1e-10 };
    expect(parse(yaml)).toEqual(back);
    expect(readBack([yaml])).toEqual([back]);
  });

  test('any text reads back as itself, in a value, a list, a comment or the run name (item 5)', () => {
    const written = hostileNames.map((name) =>
      writeYaml(
        new Map([
          ['name', { value: name, comment: name }],
          ['list', { value: [name, 1] }],
          ['group', { value: new Map([['x', { value: 2 }]]), comment: name }],
        ]),
      ),
    );
    expect(readBack(written)).toEqual(
      hostileNames.map((name) => ({ name, list: [name, 1], group: { x: 2 } })),
    );
    const configs = hostileNames.map((name) => {
      const { files } = exportOf((input) => {
        input.source = name;
      });
      return text(files, 'config.yaml');
    });
    const plain = readBack([text(exportOf().files, 'config.yaml')])[0];
    for (const [i, config] of readBack(configs).entries())
      expect(config, JSON.stringify(hostileNames[i])).toEqual(plain);
  });
});

describe('reading a run for the export', () => {
  test('bad files get a message that says why', () => {
    expect(() => runForExport('{')).toThrow('not JSON');
    expect(() => runForExport('{"eval": {}}')).toThrow('neither a run exported from the page');
    const run = runForExport(fixture);
    expect(() =>
      runForExport(JSON.stringify({ experiment: run.experiment, records: { chains: 1 } })),
    ).toThrow('damaged');
    const broken = JSON.parse(fixture);
    broken.meta.experiment.constitution = 'none';
    expect(() => runForExport(JSON.stringify(broken))).toThrow('damaged');
  });

  test('the experiment script’s output reads as the page’s export does', () => {
    const page = runForExport(fixture);
    const script = runForExport(
      JSON.stringify({ experiment: page.experiment, records: page.records, adapterDir: 'a/' }),
    );
    expect(script.records).toEqual(JSON.parse(JSON.stringify(page.records)));
    expect(script.adapterDir).toBe('a/');
  });
});
