import { expect, test } from 'vitest';
import { fitRange } from '../../src/lib/ui/charts/axis.ts';
import { spreadOrder } from '../../src/lib/ui/results/spread.ts';
import { stepTitle } from '../../src/lib/ui/pipeline/stages.ts';
import { stepsOf } from '../../src/lib/pipeline/steps.ts';
import { constitutionPresets, matchingPreset } from '../../src/lib/experiment/presets.ts';
import { promptsWhere } from '../../src/lib/world/prompts.ts';
import { RunView } from '../../src/lib/state/run-view.svelte.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import {
  estimateSeconds,
  referenceSeconds,
  roughDuration,
  stepWork,
  type TimingReference,
} from '../../src/lib/runs/time-estimate.ts';

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
  expect(stepsOf('all', 'ppo').map(stepTitle)).toEqual([
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
  // DPO learns from the labels directly: no reward model step.
  expect(stepsOf('all', 'dpo').map(stepTitle).slice(5)).toEqual([
    'AI preferences',
    'DPO',
    'Evaluate: RL-CAI',
  ]);
  expect(
    stepsOf('all', 'grpo')
      .map((s) => s.id)
      .slice(5),
  ).toEqual(['label', 'reward', 'grpo', 'evaluate-rl']);
  expect(stepsOf('sl', 'rloo').map((s) => s.id)).toEqual(stepsOf('sl', 'ppo').map((s) => s.id));
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

test('the time estimate scales the bench: by the device, and by each step’s work', () => {
  const ref: TimingReference = {
    date: '2026-12-02',
    machine: 'test',
    backend: 'wasm',
    trainStep: { batch: 4, seq: 64, ms: 100 },
    steps: Object.fromEntries(
      Object.entries(stepWork(defaultExperiment())).map(([id, work]) => [
        id,
        { work, seconds: 10 },
      ]),
    ) as TimingReference['steps'],
  };
  const x = defaultExperiment();
  expect(referenceSeconds('sl', ref)).toBe(50); // five SL-CAI steps of 10 s
  expect(referenceSeconds('all', ref)).toBe(90);
  expect(estimateSeconds(x, 'all', 100, ref)).toBeCloseTo(90, 9); // the bench's own speed
  expect(estimateSeconds(x, 'all', 200, ref)).toBeCloseTo(180, 9); // a device twice as slow
  expect(estimateSeconds(x, 'sl', null, ref)).toBeCloseTo(50, 9);
  // Half the PPO iterations: PPO's 10 s become 5.
  x.stages.ppo.iterations /= 2;
  expect(estimateSeconds(x, 'all', 100, ref)).toBeCloseTo(85, 9);
  // Two critique rounds instead of the default's: critique's time in proportion.
  const rounds = defaultExperiment().stages.critique.rounds;
  x.stages.critique.rounds = 2 * rounds;
  expect(estimateSeconds(x, 'sl', 100, ref)).toBeCloseTo(60, 9);
  expect(
    ['4', '12.4', '40', '89', '95', '150', '300', '599', '1000'].map((s) => roughDuration(+s)),
  ).toEqual(['4 s', '12 s', '40 s', '90 s', '1½ min', '2½ min', '5 min', '10 min', '17 min']);
});

test('a method the bench has not timed is estimated at the rate of the step it resembles', () => {
  const work = stepWork(defaultExperiment());
  const timed = Object.fromEntries(
    Object.entries(work)
      .filter(([id]) => !['dpo', 'grpo', 'rloo'].includes(id))
      .map(([id, w]) => [id, { work: w, seconds: 10 }]),
  ) as TimingReference['steps'];
  const ref: TimingReference = {
    date: '2026-12-08',
    machine: 'test',
    backend: 'wasm',
    trainStep: { batch: 4, seq: 64, ms: 100 },
    steps: timed,
  };
  const x = defaultExperiment();
  x.stages.rl.method = 'dpo';
  // Seven steps timed at 10 s; DPO at the reward model's rate (pairs × epochs: 3 against 2).
  expect(estimateSeconds(x, 'all', 100, ref)).toBeCloseTo(70 + (10 * work.dpo) / work.reward, 9);
  expect((10 * work.dpo) / work.reward).toBeCloseTo(15, 9);
  // GRPO's default samples as many answer tokens per run as PPO's: PPO's 10 s.
  x.stages.rl.method = 'grpo';
  expect(estimateSeconds(x, 'all', 100, ref)).toBeCloseTo(90, 9);
  expect(referenceSeconds('all', ref, 'rloo')).toBe(90);
});
