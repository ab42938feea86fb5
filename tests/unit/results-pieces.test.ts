import { expect, test } from 'vitest';
import { fitRange } from '../../src/lib/ui/charts/axis.ts';
import { spreadOrder } from '../../src/lib/ui/results/spread.ts';
import { stepTitle } from '../../src/lib/ui/pipeline/stages.ts';
import { steps } from '../../src/lib/pipeline/steps.ts';
import { constitutionPresets, matchingPreset } from '../../src/lib/state/presets.ts';
import { promptsWhere } from '../../src/lib/world/prompts.ts';
import { RunView } from '../../src/lib/state/run-view.svelte.ts';

test('a chart axis fits its data: a flat 0 gets ±0.01, a flat 5 ±0.5, a range 8% each side', () => {
  expect(fitRange(0, 0)).toEqual([-0.01, 0.01]);
  expect(fitRange(5, 5)).toEqual([4.5, 5.5]);
  const [lo, hi] = fitRange(1, 3);
  expect(lo).toBeCloseTo(0.84, 12);
  expect(hi).toBeCloseTo(3.16, 12);
  expect(fitRange(null, null)).toEqual([0, 1]);
});

test('side-by-side samples go one topic at a time, red-team and ordinary alternating', () => {
  const red = promptsWhere({ kind: 'red-team', heldOut: true });
  const ordinary = promptsWhere({ kind: 'ordinary', heldOut: true });
  // Held-out prompts as an evaluation lists them: red-team first, paraphrases of a topic together.
  const samples = [
    ...red.map((p) => ({ prompt: p.text, kind: 'red-team' as const, topic: p.topic.id })),
    ...ordinary.map((p) => ({ prompt: p.text, kind: 'ordinary' as const, topic: p.topic.id })),
  ];
  const order = spreadOrder(samples);
  expect([...order].sort((a, b) => a - b)).toEqual(samples.map((_, i) => i)); // each once
  const first = order.slice(0, 8).map((i) => samples[i]!);
  expect(first.map((s) => s.kind)).toEqual([
    'red-team',
    'ordinary',
    'red-team',
    'ordinary',
    'red-team',
    'ordinary',
    'red-team',
    'ordinary',
  ]);
  expect(new Set(first.map((s) => s.topic)).size).toBe(8);
  // Prompts the world does not know are a topic each.
  const own = [
    { prompt: 'a', kind: 'red-team' as const },
    { prompt: 'b', kind: 'red-team' as const },
    { prompt: 'c', kind: 'ordinary' as const },
  ];
  expect(spreadOrder(own)).toEqual([0, 2, 1]);
});

test('step chips are named as the overview names the stages', () => {
  expect(steps.map(stepTitle)).toEqual([
    'Evaluate: Base',
    'Answer',
    'Critique and revise',
    'Fine-tune (SFT)',
    'Evaluate: SL-CAI',
    'AI preferences',
    'Reward model',
    'PPO',
    'Evaluate: RL-CAI',
  ]);
});

test('the preset list shows the preset that matches the loaded principles, else none', () => {
  for (const preset of constitutionPresets)
    expect(matchingPreset([...preset.principles])?.id).toBe(preset.id);
  const seed = constitutionPresets.find((p) => p.id === 'seed')!.principles;
  expect(seed).toHaveLength(5);
  expect(constitutionPresets[0]!.description).toMatch(/^5 principles/);
  expect(matchingPreset(seed.slice(0, 4))?.id).toBe('no-explain'); // the seed less its last
  expect(matchingPreset(seed.slice(1))).toBeUndefined(); // four, but not those four
  expect(matchingPreset([...seed].reverse())).toBeUndefined(); // order counts
  expect(matchingPreset([])).toBeUndefined();
});

test('streamed text: the newest 8 texts of the stage, each growing, a new stage starts afresh', () => {
  const view = new RunView('all');
  for (let row = 0; row < 10; row++)
    view.fold({ type: 'token', stage: 'ppo', key: `ppo-1-${row}`, delta: `r${row}` });
  view.fold({ type: 'token', stage: 'ppo', key: 'ppo-1-9', delta: '!' });
  expect(view.streaming).toEqual({
    stage: 'ppo',
    rows: [2, 3, 4, 5, 6, 7, 8]
      .map((r) => ({ key: `ppo-1-${r}`, text: `r${r}` }))
      .concat({
        key: 'ppo-1-9',
        text: 'r9!',
      }),
  });
  view.fold({ type: 'token', stage: 'evaluate', key: 'rl-0', delta: 'Sure' });
  expect(view.streaming).toEqual({ stage: 'evaluate', rows: [{ key: 'rl-0', text: 'Sure' }] });
});
