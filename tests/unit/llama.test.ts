import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { AdamW } from '../../src/lib/training/adamw.ts';
import { parseModelConfig, type ModelConfig } from '../../src/lib/model/architecture/config.ts';
import { parameterCount } from '../../src/lib/model/architecture/parameters.ts';
import { generate } from '../../src/lib/model/generation/generate.ts';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import {
  lmLoss,
  lossAndGrads,
  trainStep,
  type LmBatch,
} from '../../src/lib/training/train-step.ts';
import { expectAllChanged, snapshot } from './model-helpers.ts';
import { useCpu } from './tf-setup.ts';

const config: ModelConfig = parseModelConfig({
  model_type: 'llama',
  vocab_size: 23,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
  initializer_range: 0.3,
  eos_token_id: 1,
  pad_token_id: 0,
});

const batch: LmBatch = {
  ids: [
    [0, 0, 5, 6, 7, 8],
    [3, 4, 5, 9, 10, 11],
  ],
  targets: [
    [0, 5, 6, 7, 8, 2],
    [4, 5, 9, 10, 11, 12],
  ],
  // Padding positions never count: a padded query sees no real key, so its output is noise.
  lossMask: [
    [0, 0, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ],
  keyMask: [
    [0, 0, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ],
};

beforeAll(useCpu);

describe('config', () => {
  test('reads HF fields and counts parameters', () => {
    expect(config.head_dim).toBe(4);
    // embed 23*16 + 2 layers * (2*16 + q 16*16 + k,v 2*8*16 + o 16*16 + mlp 3*24*16) + final norm 16
    expect(parameterCount(config)).toBe(23 * 16 + 2 * (32 + 256 + 256 + 256 + 1152) + 16);
  });

  test('rejects what the model cannot run, naming the field', () => {
    expect(() => parseModelConfig({ model_type: 'gpt2' })).toThrow(
      'model_type "gpt2" is not supported',
    );
    expect(() => parseModelConfig({ ...config, num_key_value_heads: 3 })).toThrow(
      'multiple of num_key_value_heads',
    );
    expect(() => parseModelConfig({ ...config, vocab_size: 'many' })).toThrow(
      '"vocab_size" must be a number',
    );
  });
});

describe('generation', () => {
  test('greedy generation with the KV cache equals full recompute, token for token', async () => {
    const model = LlamaModel.init(config, 1);
    const prompts = [[3, 4, 5], [7], [9, 10, 11, 12, 13]];
    const opts = {
      maxNewTokens: 12,
      seed: 0,
      eosIds: [],
      padId: 0,
      temperature: 0,
      topK: 0,
      topP: 1,
    };
    const cached = await generate(model, prompts, opts);
    const full = await generate(model, prompts, { ...opts, noCache: true });
    expect(cached.tokens).toEqual(full.tokens);
    expect(cached.tokens.every((t) => t.length === 12)).toBe(true);
    // Left padding changes nothing: each row alone gives the same tokens.
    for (const [i, prompt] of prompts.entries())
      expect((await generate(model, [prompt], opts)).tokens[0]).toEqual(cached.tokens[i]);
    model.dispose();
  });

  test('sampling is reproducible under a seed, stops at EOS, and leaks no tensor', async () => {
    const model = LlamaModel.init(config, 2);
    const before = tf.memory().numTensors;
    const opts = {
      maxNewTokens: 30,
      seed: 7,
      eosIds: [1],
      padId: 0,
      temperature: 1.5,
      topK: 0,
      topP: 1,
    };
    const streamed: number[][] = [];
    const a = await generate(model, [[3, 4], [5]], {
      ...opts,
      onToken: (_, t) => streamed.push(t),
    });
    const b = await generate(model, [[3, 4], [5]], opts);
    expect(a).toEqual(b);
    expect(streamed.length).toBe(Math.max(...a.tokens.map((t) => t.length)));
    a.tokens.forEach((t, i) => {
      if (a.finished[i]) expect(t[t.length - 1]).toBe(1);
      expect(t.slice(0, -1)).not.toContain(1);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('a prompt that does not fit the context is refused with a clear message', async () => {
    const model = LlamaModel.init(config, 8);
    const opts = {
      maxNewTokens: 10,
      seed: 0,
      eosIds: [],
      padId: 0,
      temperature: 0,
      topK: 0,
      topP: 1,
    };
    await expect(generate(model, [new Array<number>(60).fill(3)], opts)).rejects.toThrow(
      "A prompt of 60 tokens plus 10 new tokens exceeds the model's context of 64 tokens.",
    );
    model.dispose();
  });

  test('a checkpoint that throws cancels between tokens', async () => {
    const model = LlamaModel.init(config, 3);
    let steps = 0;
    const run = generate(model, [[3]], {
      maxNewTokens: 50,
      seed: 0,
      eosIds: [],
      padId: 0,
      temperature: 1,
      topK: 0,
      topP: 1,
      checkpoint: async () => {
        if (++steps === 3) throw new Error('Cancelled.');
      },
    });
    await expect(run).rejects.toThrow('Cancelled.');
    expect(steps).toBe(3);
    model.dispose();
  });
});

describe('training', () => {
  test('gradients match central finite differences', async () => {
    const model = LlamaModel.init(config, 4);
    const { loss, grads } = lossAndGrads(model, batch);
    loss.dispose();
    const h = 1e-2;
    const checks: [string, number][] = [
      ['model.embed_tokens.weight', 5 * 16 + 3],
      ['model.layers.0.self_attn.q_proj.weight', 17],
      ['model.layers.0.self_attn.k_proj.weight', 40],
      ['model.layers.1.self_attn.v_proj.weight', 9],
      ['model.layers.1.self_attn.o_proj.weight', 100],
      ['model.layers.0.mlp.gate_proj.weight', 33],
      ['model.layers.1.mlp.down_proj.weight', 70],
      ['model.layers.0.input_layernorm.weight', 2],
      ['model.norm.weight', 5],
    ];
    for (const [name, index] of checks) {
      const variable = model.params.get(name)!;
      const original = (await variable.data()).slice();
      const at = async (delta: number) => {
        const values = original.slice();
        values[index]! += delta;
        variable.assign(tf.tensor(values, variable.shape));
        const l = tf.tidy(() => lmLoss(model, batch));
        const v = (await l.data())[0]!;
        l.dispose();
        return v;
      };
      const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
      variable.assign(tf.tensor(original, variable.shape));
      const analytic = (await grads.get(name)!.data())[index]!;
      expect(Math.abs(analytic - numeric), `${name}: ${analytic} vs ${numeric}`).toBeLessThan(
        2e-3 + 0.02 * Math.abs(numeric),
      );
    }
    tf.dispose([...grads.values()]);
    model.dispose();
  });

  test('train 2 steps: loss finite, every weight changed, no tensor leaked', async () => {
    const model = LlamaModel.init(config, 5);
    const optimizer = new AdamW(model.params);
    const before = await snapshot(model.params);
    const tensors = tf.memory().numTensors;
    const steps = [
      await trainStep(model, optimizer, batch, 1e-2),
      await trainStep(model, optimizer, batch, 1e-2),
    ];
    expect(tf.memory().numTensors).toBe(tensors);
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.gradNorm).toBeGreaterThan(0);
    }
    await expectAllChanged(model.params, before);
    optimizer.dispose();
    model.dispose();
  });

  test('the loss falls when one batch is trained on repeatedly', async () => {
    const model = LlamaModel.init(config, 6);
    const optimizer = new AdamW(model.params);
    const first = await trainStep(model, optimizer, batch, 3e-2);
    let last = first;
    for (let i = 0; i < 30; i++) last = await trainStep(model, optimizer, batch, 3e-2);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    optimizer.dispose();
    model.dispose();
  });
});

describe('scoring', () => {
  test('continuation log-probs equal the sum of per-token log-probs from generation logits', async () => {
    const { continuationLogprobs } = await import('../../src/lib/model/generation/score.ts');
    const model = LlamaModel.init(config, 12);
    const prompt = [3, 4, 5];
    const continuation = [6, 7];
    // By hand: run the prefix and read log softmax at the right positions.
    const expected = tf.tidy(() => {
      const ids = [[...prompt, ...continuation]];
      const mask = [[1, 1, 1, 1, 1]];
      const { hidden } = model.forward({
        ids: tf.tensor2d(ids, undefined, 'int32'),
        keyMask: tf.tensor2d(mask),
        positions: tf.tensor2d([[0, 1, 2, 3, 4]], undefined, 'int32'),
      });
      const lp = tf.logSoftmax(model.logits(hidden)); // [1, 5, V]
      return tf.add(tf.slice(lp, [0, 2, 6], [1, 1, 1]), tf.slice(lp, [0, 3, 7], [1, 1, 1]));
    });
    const want = (await expected.data())[0]!;
    expected.dispose();
    // The same pair, batched with a longer one (right padding must not change it).
    const got = await continuationLogprobs(model, [
      { prompt, continuation },
      { prompt: [9, 9, 9, 9], continuation: [1, 2, 3] },
    ]);
    expect(got[0]).toBeCloseTo(want, 5);
    expect(got[1]).toBeLessThan(0);
    model.dispose();
  });
});
