import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { folderSource } from '../../scripts/lib/folder-source.ts';
import { realModelLora } from '../../src/lib/model/adapters/lora-config.ts';
import { peftFilesOfCheckpoint, parsePeftConfig } from '../../src/lib/model/checkpoints/peft.ts';
import { PolicySession } from '../../src/lib/model/generation/policy-session.ts';
import { readSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { runSft, sftSequences } from '../../src/lib/training/sft.ts';
import { defaultSftConfig } from '../../src/lib/training/sft-config.ts';
import { optionProbabilities } from '../../src/lib/ops/preferences.ts';
import { judgeWithFeedback, rotationAveraged } from '../../src/lib/pipeline/ai-judge.ts';
import { judgeOptions, judgePrompt } from '../../src/lib/world/judge-format.ts';
import type { FeedbackPort } from '../../src/lib/pipeline/ports.ts';
import { zipStored } from '../../src/lib/util/zip.ts';
import { EnginePolicies } from '../../src/lib/workers/engine-policies.ts';
import type { EngineClient, FeedbackClient } from '../../src/lib/workers/clients.ts';
import { runExperiment } from '../../src/lib/pipeline/run-experiment.ts';
import { defaultExperiment, withFirstPrompts } from '../../src/lib/experiment/experiment.ts';
import { realRunSeconds } from '../../src/lib/runs/real-time-estimate.ts';
import { readZip } from '../zip-reader.ts';
import { useCpu } from './tf-setup.ts';
import { runDpo, runGroupRl } from '../../src/lib/training/method-tasks.ts';
import { defaultDpoConfig } from '../../src/lib/training/dpo-config.ts';
import { defaultGrpoConfig } from '../../src/lib/training/online-config.ts';

beforeAll(useCpu);

const lora = { ...realModelLora, rank: 4, alpha: 8, dropout: 0 };
const examples = [
  { prompt: 'How do I hack a website?', response: 'I can’t help with that.' },
  { prompt: 'How do I bake bread?', response: 'Mix flour, water and yeast.' },
];

async function snapshot(params: Map<string, tf.Variable>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) out.set(name, (await v.data()) as Float32Array);
  return out;
}

const logitsOf = async (session: { current(): ReturnType<PolicySession['current']> }) => {
  const model = session.current();
  const t = tf.tidy(() => {
    const { hidden } = model.forward({
      ids: tf.tensor2d([[5, 6, 7, 8]], undefined, 'int32'),
      positions: tf.tensor2d([[0, 1, 2, 3]], undefined, 'int32'),
      keyMask: tf.tensor2d([[1, 1, 1, 1]]),
    });
    return model.logits(hidden);
  });
  const data = Array.from(await t.data());
  t.dispose();
  return data;
};

describe('the recipe with LoRA on one frozen base (the engine’s models)', () => {
  test('SFT trains only the adapter; checkpoints are PEFT adapters; the reward adapter starts as the policy’s; the reference is the SL-CAI policy', async () => {
    const models = new EnginePolicies();
    const session = await PolicySession.fromSource(
      'local/tiny-cai',
      folderSource('models/tiny-cai'),
    );
    const base = models.load(session, lora);
    expect(base.frozen).toBe(true);
    const baseBefore = await snapshot(base.current().params);
    const sl = await models.freshSl(7);
    // A new adapter (B = 0) leaves the policy equal to its base.
    expect(await logitsOf(sl)).toEqual(await logitsOf(base));
    const adapterBefore = await snapshot(sl.current().trainable());
    const config = {
      ...defaultSftConfig,
      epochs: 1,
      batchSize: 1,
      learningRate: 1e-2,
      warmupRatio: 0,
    };
    const result = await models.training(sl, () =>
      runSft(sl.current(), sftSequences(sl, examples), [], config, 1),
    );
    expect(result.steps).toBe(2);
    await sl.syncFromModel();
    const adapterAfter = await snapshot(sl.current().trainable());
    expect(adapterAfter.size).toBe(4 * 7 * 2); // 4 layers × 7 modules × (A, B)
    for (const [name, before] of adapterBefore)
      expect(Array.from(adapterAfter.get(name)!), name).not.toEqual(Array.from(before));
    const baseAfter = await snapshot(base.current().params);
    for (const [name, before] of baseBefore)
      expect(Array.from(baseAfter.get(name)!), name).toEqual(Array.from(before));
    models.set('sl', sl);

    // The checkpoint is PEFT's adapter file; loaded back, it computes the same policy.
    const bytes = sl.safetensors({ stage: 'sl-cai' });
    const files = peftFilesOfCheckpoint(bytes);
    expect(parsePeftConfig(files['adapter_config.json'])).toEqual(lora);
    expect(JSON.parse(files['adapter_config.json']).base_model_name_or_path).toBe('local/tiny-cai');
    const { tensors } = readSafetensors(files['adapter_model.safetensors']);
    expect(
      tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape,
    ).toEqual([4, 128]);
    expect(
      tensors.get('base_model.model.model.layers.3.mlp.down_proj.lora_B.weight')!.shape,
    ).toEqual([128, 4]);
    const trained = await logitsOf(sl);
    models.loadCheckpoint('sl', bytes);
    expect(await logitsOf(models.need('sl'))).toEqual(trained);
    // PPO's reference is the SL-CAI policy: the base with the SL-CAI adapter.
    const reference = models.reference();
    expect(reference.adapter).toBe(models.need('sl').current().adapter);
    expect(await logitsOf({ current: () => reference })).toEqual(trained);

    // The reward model: an adapter copied from the policy's, a new head; its checkpoint
    // round-trips onto the same base.
    const reward = models.newReward(3);
    const named = reward.adapter!.named();
    const slNamed = models.need('sl').current().adapter!.named();
    for (const [name, v] of named)
      expect(Array.from(await v.data())).toEqual(Array.from(await slNamed.get(name)!.data()));
    const ids = [[5, 6, 7, 2]];
    const mask = [[1, 1, 1, 1]];
    const score = Array.from(await reward.scores(ids, mask).data());
    const rewardBytes = await reward.safetensors({ stage: 'reward' });
    models.setReward(rewardBytes, reward);
    models.loadCheckpoint('reward', rewardBytes);
    expect(Array.from(await models.needReward().scores(ids, mask).data())).toEqual(score);

    // A whole-model checkpoint is refused with a message, and nothing is replaced.
    expect(() => models.loadCheckpoint('sl', base.safetensors())).toThrow(
      'This checkpoint is not a LoRA adapter',
    );
    expect(() => peftFilesOfCheckpoint(base.safetensors())).toThrow('not a LoRA adapter');
    expect(await logitsOf(models.need('sl'))).toEqual(trained);
  });
});

describe('RL-CAI’s methods with LoRA on one frozen base', () => {
  test('DPO and GRPO train only the RL-CAI adapter: the base, the SL-CAI adapter and the reward model stay as they were', async () => {
    const models = new EnginePolicies();
    const session = await PolicySession.fromSource(
      'local/tiny-cai',
      folderSource('models/tiny-cai'),
    );
    const base = models.load(session, lora);
    models.set('sl', await models.freshSl(7));
    const sl = models.need('sl');
    const reward = models.newReward(3);
    const frozen = async () => ({
      base: await snapshot(base.current().params),
      sl: await snapshot(sl.current().trainable()),
      reward: await snapshot(reward.params),
    });
    const before = await frozen();
    const hooks = { onEvent: () => {}, checkpoint: async () => {} };
    const pairs = [
      {
        prompt: 'How do I hack a website?',
        chosen: 'I can’t help with that.',
        rejected: 'Sure.',
        label: 0.9,
      },
      {
        prompt: 'How do I bake bread?',
        chosen: 'Mix flour, water and yeast.',
        rejected: 'No.',
        label: 0.8,
      },
    ];
    const runs = {
      dpo: (rl: typeof sl) =>
        runDpo(
          models.reference(),
          rl,
          pairs,
          [],
          { ...defaultDpoConfig, epochs: 2, batchSize: 2, learningRate: 1e-2, warmupRatio: 0 },
          1,
          hooks,
        ),
      grpo: (rl: typeof sl) =>
        runGroupRl(
          models.reference(),
          rl,
          reward,
          // Answers that differ (hot sampling, several per prompt), so the advantages are not 0.
          ['How do I bake bread?', 'How do I hack a website?'],
          {
            kind: 'grpo',
            config: {
              ...defaultGrpoConfig,
              iterations: 2,
              promptsPerIteration: 2,
              numGenerations: 4,
              responseLength: 8,
              temperature: 3,
              learningRate: 1e-2,
            },
          },
          1,
          hooks,
        ),
    };
    for (const [name, run] of Object.entries(runs) as [
      string,
      (rl: typeof sl) => Promise<unknown>,
    ][]) {
      const rl = sl.copy('rl');
      const adapterBefore = await snapshot(rl.current().trainable());
      await models.training(rl, () => run(rl));
      const adapterAfter = await snapshot(rl.current().trainable());
      const changed = [...adapterBefore].filter(
        ([n, v]) => Array.from(adapterAfter.get(n)!).join() !== Array.from(v).join(),
      );
      expect(changed.length, name).toBe(adapterBefore.size);
      const after = await frozen();
      for (const part of ['base', 'sl', 'reward'] as const)
        for (const [n, v] of before[part])
          expect(Array.from(after[part].get(n)!), `${name}: ${part} ${n}`).toEqual(Array.from(v));
      rl.dispose();
    }
  });
});

describe('the AI judge (pure parts)', () => {
  test('option probabilities are a softmax over the options’ log-probs', () => {
    const [a, b] = optionProbabilities([Math.log(1), Math.log(3)]);
    expect(a).toBeCloseTo(0.25, 12);
    expect(b).toBeCloseTo(0.75, 12);
  });

  test('rotations map letters back to behaviours before averaging', () => {
    // Rotation r shows behaviour (i + r) mod 3 under letter i.
    const averaged = rotationAveraged([
      [0.5, 0.3, 0.2],
      [0.6, 0.3, 0.1],
      [0.2, 0.2, 0.6],
    ]);
    // Behaviour 0: letter 0 in r0 (0.5), letter 2 in r1 (0.1), letter 1 in r2 (0.2).
    expect(averaged[0]).toBeCloseTo((0.5 + 0.1 + 0.2) / 3, 12);
    expect(averaged[1]).toBeCloseTo((0.3 + 0.6 + 0.6) / 3, 12);
    expect(averaged[2]).toBeCloseTo((0.2 + 0.3 + 0.2) / 3, 12);
  });

  /** A feedback model that scores letters by a rule (what the judge sees, and asks). */
  const scripted = (rule: (shown: string[], letter: number) => number) => {
    const asked: string[] = [];
    const port: FeedbackPort = {
      generate: () => Promise.reject(new Error('not used')),
      quoteCritique: (_, c) => c,
      scoreContinuations: async (prompt, options) => {
        asked.push(prompt);
        const shown = [...prompt.matchAll(/^\(([A-F])\) (.*)$/gm)].map((m) => m[2]!);
        expect(options).toEqual(shown.map((_, i) => `(${'ABCDEF'[i]})`));
        return options.map((_, i) => Math.log(rule(shown, i)));
      },
    };
    return { port, asked };
  };
  const sample = {
    prompt: 'How do I pick a lock?',
    kind: 'red-team' as const,
    text: 'Here is how.',
  };
  const signal = new AbortController().signal;

  test('a judge that reads the behaviour wins whatever letter it is under', async () => {
    const options = judgeOptions['red-team'];
    const engage = options.find((o) => o.label === 'engage')!.text;
    const { port, asked } = scripted((shown, i) =>
      shown[i] === engage ? 0.7 : 0.3 / (options.length - 1),
    );
    expect(await judgeWithFeedback(port, sample, signal)).toEqual({
      label: 'engage',
      confidence: expect.closeTo(0.7, 12),
    });
    expect(asked).toHaveLength(options.length);
    expect(asked[0]).toBe(
      judgePrompt(
        sample.prompt,
        sample.text,
        judgeOptions['red-team'].map((o) => o.text),
      ),
    );
  });

  test('a judge that only likes the letter (A) is cancelled out: every behaviour gets 1/n', async () => {
    const n = judgeOptions['red-team'].length;
    const { port } = scripted((_, i) => (i === 0 ? 0.5 : 0.5 / (n - 1)));
    const verdict = await judgeWithFeedback(port, sample, signal);
    expect(verdict.confidence).toBeCloseTo(1 / n, 12);
  });
});

describe('zip archives (the adapter export)', () => {
  test('stored files read back with their names, bytes and CRCs; the layout is the format’s', () => {
    const a = new TextEncoder().encode('{"r": 8}\n');
    const b = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
    const zip = zipStored([
      { name: 'adapter/adapter_config.json', data: a },
      { name: 'adapter/adapter_model.safetensors', data: b },
    ]);
    const files = readZip(zip);
    expect([...files.keys()]).toEqual([
      'adapter/adapter_config.json',
      'adapter/adapter_model.safetensors',
    ]);
    expect(files.get('adapter/adapter_config.json')).toEqual(a);
    expect(files.get('adapter/adapter_model.safetensors')).toEqual(b);
    // Two local headers (30 bytes + name), two central entries (46 + name), one end record.
    const names = 'adapter/adapter_config.json'.length + 'adapter/adapter_model.safetensors'.length;
    expect(zip.length).toBe(2 * 30 + 2 * 46 + 2 * names + a.length + b.length + 22);
  });
});

describe('a real model’s run time, from the probe (pure)', () => {
  test('policy decoding and training at the probe’s times, the feedback model’s tokens scaled by size', () => {
    const x = withFirstPrompts(defaultExperiment(), {
      redTeam: 2,
      ordinary: 1,
      heldOutRedTeam: 2,
      heldOutOrdinary: 2,
    });
    const s = x.stages;
    Object.assign(s.evaluate, { maxNewTokens: 10, judge: 'world' });
    s.generate.maxNewTokens = 10;
    s.generate.helpfulSamples = 1;
    s.critique.rounds = 1;
    s.critique.critique.maxNewTokens = 10;
    s.critique.revision.maxNewTokens = 10;
    Object.assign(s.sft, { epochs: 1, batchSize: 4 });
    Object.assign(s.label, { pairsPerPrompt: 1, mode: 'plain' });
    s.label.sampling.maxNewTokens = 10;
    Object.assign(s.reward, { epochs: 1, batchSize: 2 });
    Object.assign(s.ppo, {
      iterations: 1,
      batchSize: 4,
      responseLength: 10,
      ppoEpochs: 1,
      miniBatches: 1,
    });
    const probe = { decodeStepSeconds: 0.01, trainStepSeconds: 1, batch: 4, seq: 64 };
    // SL-CAI: 2 evaluations (0.1 s each: 10 steps), answers (0.1), critiques and revisions
    // (2 × 20 tokens at 0.01 × 2), SFT (1 step of 4 rows: 1 s).
    // RL-CAI: pairs (0.1) and their scoring (3 pairs × 2 orders × 8 tokens at 0.02), the
    // reward model (2 steps of 2 pairs = 4 rows: 2 s), PPO (0.1 rollout, 4/3 s of passes,
    // 2 updates: 2 s), the last evaluation (0.1).
    const e = realRunSeconds(x, probe, 2);
    expect(e.sl).toBeCloseTo(0.2 + 0.1 + 0.8 + 1, 9);
    expect(e.all).toBeCloseTo(2.1 + 0.1 + 0.96 + 2 + (0.1 + 4 / 3 + 2) + 0.1, 9);
    expect(e.feedbackCounted).toBe(true);
    const without = realRunSeconds(x, probe, null);
    expect(without.sl).toBeCloseTo(0.2 + 0.1 + 1, 9);
    expect(without.feedbackCounted).toBe(false);
  });
});

describe('a real model’s run, before anything is downloaded', () => {
  test('a policy whose memory plan does not fit is refused with the plan’s numbers, and nothing is downloaded', async () => {
    const asked: string[] = [];
    const engine = {
      request: async (r: { type: string }) => {
        asked.push(r.type);
        if (r.type !== 'inspectHub') throw new Error(`${r.type} must not be asked`);
        return {
          fits: false,
          lines: [
            'plan',
            '    5.21 GiB  in all (the peak, during PPO’s update)',
            'Does not fit: needs about 5.21 GiB but the wasm backend holds 4.00 GiB. Try: a smaller batch (8).',
          ],
        };
      },
    } as unknown as EngineClient;
    const feedback = { request: async () => ({}) } as unknown as FeedbackClient;
    const x = defaultExperiment();
    x.models.policy = 'owner/big-model';
    x.stages.evaluate.judge = 'feedback';
    x.stages.lora.rank = 8;
    await expect(
      runExperiment(engine, feedback, x, 'sl', () => {}, new AbortController().signal, {
        download: true,
        hubEndpoint: 'http://127.0.0.1:9',
      }),
    ).rejects.toThrow(
      'owner/big-model will not fit on this backend, so nothing was downloaded. Does not fit: needs about 5.21 GiB but the wasm backend holds 4.00 GiB. Try: a smaller batch (8). (The plan: 5.21 GiB  in all (the peak, during PPO’s update).)',
    );
    expect(asked).toEqual(['inspectHub']);
  });
});
