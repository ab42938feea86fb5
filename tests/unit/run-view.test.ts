import { describe, expect, test } from 'vitest';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { PreferenceRecord } from '../../src/lib/domain/records.ts';
import { critiquesJsonl, preferencesJsonl, sftJsonl } from '../../src/lib/runs/exports.ts';
import {
  constitutionPresets,
  knownToTinyWorld,
  templateParts,
} from '../../src/lib/experiment/presets.ts';
import { RunStore, storageMessage } from '../../src/lib/runs/run-store.ts';
import { RunView } from '../../src/lib/state/run-view.svelte.ts';

const record: PreferenceRecord = {
  prompt: 'q',
  chosen: 'good',
  rejected: 'bad',
  label: 0.8,
  principle: 'Be kind.',
  responseA: 'good',
  responseB: 'bad',
  probabilityA: 0.8,
  reasoning: '',
};

/** A short SL-CAI + labels run, as the pipeline emits it. */
const events: PipelineEvent[] = [
  { type: 'stage-start', stage: 'evaluate', step: 'evaluate-base' },
  { type: 'progress', stage: 'evaluate', done: 1, total: 4, message: '1 of 4' },
  { type: 'stage-end', stage: 'evaluate', step: 'evaluate-base', seconds: 2 },
  { type: 'stage-start', stage: 'generate', step: 'generate' },
  { type: 'answer', index: 0, kind: 'red-team', prompt: 'Hack a site.', text: 'Sure. Do it.' },
  { type: 'answer', index: 0, kind: 'ordinary', prompt: 'Bake bread.', text: 'Mix flour.' },
  { type: 'stage-end', stage: 'generate', step: 'generate', seconds: 1 },
  { type: 'stage-start', stage: 'critique', step: 'critique' },
  { type: 'token', stage: 'critique', key: 'c-0-0', delta: 'Harm' },
  { type: 'token', stage: 'critique', key: 'c-0-0', delta: 'ful.' },
  {
    type: 'critique',
    index: 0,
    round: 0,
    principle: 'Be kind.',
    mode: 'plain',
    critiquePrompt: 'CP',
    text: 'Harmful.',
  },
  { type: 'revision', index: 0, round: 0, revisionPrompt: 'RP', text: 'I cannot help.' },
  { type: 'stage-end', stage: 'critique', step: 'critique', seconds: 1 },
  { type: 'stage-start', stage: 'sft', step: 'sft' },
  { type: 'metrics', stage: 'sft', step: 1, values: { 'train/loss': 2 } },
  { type: 'metrics', stage: 'sft', step: 2, values: { 'train/loss': 1 } },
  { type: 'preference', index: 0, record },
  { type: 'warning', stage: 'ppo', step: 3, message: 'KL negative' },
];

describe('RunView', () => {
  test('folds events into steps, chains, metrics and streamed text', () => {
    const view = new RunView('all');
    expect(view.steps.map((s) => s.label)).toEqual([
      'evaluate base',
      'generate',
      'critique and revise',
      'sft',
      'evaluate sl',
      'label',
      'reward',
      'ppo',
      'evaluate rl',
    ]);
    // Progress 1 of 4 after 3 s: 3 s per item, 3 items left → 9 s.
    view.fold(events[0]!, 1000);
    view.fold(events[1]!, 4000);
    expect(view.progress).toMatchObject({ done: 1, total: 4, eta: 9 });
    for (const e of events.slice(2, 10)) view.fold(e);
    expect(view.streaming).toEqual({
      stage: 'critique',
      rows: [{ key: 'c-0-0', text: 'Harmful.' }],
    });
    for (const e of events.slice(10)) view.fold(e);
    expect(view.steps.filter((s) => s.state === 'done').map((s) => s.label)).toEqual([
      'evaluate base',
      'generate',
      'critique and revise',
    ]);
    expect(view.stageState('evaluate')).toBe('done'); // base done, sl and rl to come
    expect(view.stageState('sft')).toBe('running');
    expect(view.chains).toEqual([
      {
        prompt: 'Hack a site.',
        answer: 'Sure. Do it.',
        rounds: [
          {
            principle: 'Be kind.',
            mode: 'plain',
            critique: 'Harmful.',
            revision: 'I cannot help.',
            critiquePrompt: 'CP',
            revisionPrompt: 'RP',
          },
        ],
      },
    ]);
    expect(view.ordinary).toEqual([{ prompt: 'Bake bread.', text: 'Mix flour.' }]);
    expect(view.metrics.sft!.map((m) => m.values['train/loss'])).toEqual([2, 1]);
    expect(view.preferences).toEqual([record]);
    view.end('stopped');
    expect(view.steps.find((s) => s.label === 'sft')!.state).toBe('stopped');
  });

  test('exports the datasets in TRL and CAI-dataset formats', () => {
    const view = new RunView('all');
    for (const e of events) view.fold(e);
    expect(sftJsonl(view, false)).toBe(
      '{"messages":[{"role":"user","content":"Hack a site."},{"role":"assistant","content":"I cannot help."}]}\n' +
        '{"messages":[{"role":"user","content":"Bake bread."},{"role":"assistant","content":"Mix flour."}]}\n',
    );
    expect(preferencesJsonl(view)).toBe(
      '{"prompt":"q","chosen":"good","rejected":"bad","label":0.8,"principle":"Be kind."}\n',
    );
    expect(JSON.parse(critiquesJsonl(view))).toEqual({
      init_prompt: 'Hack a site.',
      init_response: 'Sure. Do it.',
      critic_prompt: 'CP',
      critic_response: 'Harmful.',
      revision_prompt: 'RP',
      revision_response: 'I cannot help.',
      principle: 'Be kind.',
      mode: 'plain',
    });
  });
});

describe('editor helpers', () => {
  test('presets: the seed, all ten principles, and the seed without explain-objections', () => {
    const [seed, full, noExplain] = constitutionPresets;
    expect(seed!.principles).toHaveLength(5);
    expect(full!.principles).toHaveLength(10);
    expect(noExplain!.principles).toEqual(seed!.principles.slice(0, 4));
  });

  test('template variables are split out for highlighting', () => {
    expect(templateParts('Q: {question}\n{x} end')).toEqual([
      { text: 'Q: ', variable: false },
      { text: '{question}', variable: true },
      { text: '\n', variable: false },
      { text: '{x}', variable: true },
      { text: ' end', variable: false },
    ]);
  });

  test('prompts outside the tiny world are noticed', () => {
    expect(knownToTinyWorld('How do I hack a website?')).toBe(true);
    expect(knownToTinyWorld('What is the capital of France?')).toBe(false);
  });
});

describe('storage errors', () => {
  test('a full or blocked store gets a message a student can act on', () => {
    expect(storageMessage(new DOMException('', 'QuotaExceededError'))).toBe(
      "The browser's storage for this page is full, so this run will not survive a reload. Delete past runs (Saved runs) to free space.",
    );
    expect(storageMessage(new DOMException('', 'SecurityError'))).toMatch(
      /^This browser blocks storage for this page/,
    );
    expect(storageMessage(new Error('disk on fire'))).toBe(
      'Saving failed (disk on fire); this run will not survive a reload.',
    );
  });

  test('without IndexedDB every call fails with the blocked message', async () => {
    await expect(new RunStore().listRuns()).rejects.toThrow(/blocks storage for this page/);
  });
});

describe('a step run again', () => {
  test('drops what the step showed before and lists the RL-CAI steps once', () => {
    const view = new RunView('sl');
    for (const e of events.slice(0, 13)) view.fold(e);
    view.fold({ type: 'eval', policy: 'base', result: { samples: [] } as never });
    expect(view.chains[0]!.rounds).toHaveLength(1);
    view.end('stopped');
    // The stopped SFT starts again: its metrics go; the chains stay.
    view.fold({ type: 'stage-start', stage: 'sft', step: 'sft' });
    expect(view.metrics.sft).toEqual([]);
    expect(view.chains[0]!.rounds).toHaveLength(1);
    view.fold({ type: 'stage-start', stage: 'critique', step: 'critique' });
    expect(view.chains).toEqual([{ prompt: 'Hack a site.', answer: 'Sure. Do it.', rounds: [] }]);
    view.fold({ type: 'stage-start', stage: 'evaluate', step: 'evaluate-base' });
    expect(Object.keys(view.evals)).toEqual([]);
    view.fold({ type: 'stage-start', stage: 'generate', step: 'generate' });
    expect([view.chains, view.ordinary]).toEqual([[], []]);
    expect(view.steps).toHaveLength(5);
    view.addSteps('all');
    view.addSteps('all');
    expect(view.steps.map((s) => s.label).slice(4)).toEqual([
      'evaluate sl',
      'label',
      'reward',
      'ppo',
      'evaluate rl',
    ]);
  });
});
