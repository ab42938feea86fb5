import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadModel, type FileSource } from '../../src/lib/model/checkpoints/checkpoint.ts';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { batchInputs } from '../../src/lib/model/architecture/layers.ts';
import { ropeFrequencies } from '../../src/lib/model/architecture/rope-scaling.ts';
import {
  floatToBf16,
  floatToHalf,
  writeSafetensors,
  type StoredDtype,
} from '../../src/lib/model/checkpoints/safetensors.ts';
import { mulberry32 } from '../../src/lib/util/random.ts';
import { refFrequencies, refRowLogits, refShapes, type RefConfig } from './lm-reference.ts';
import { useCpu } from './tf-setup.ts';

beforeAll(useCpu);

/** Each architecture as HF's config.json writes it, and as the reference reads it. */
const cases: Record<RefConfig['type'], { json: Record<string, unknown>; ref: RefConfig }> = {
  llama: {
    json: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 29,
      hidden_size: 16,
      intermediate_size: 20,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8, // 4 · 8 = 32 ≠ 16: the query width follows head_dim, as in Llama 3.2
      max_position_embeddings: 64,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      attention_bias: true,
      mlp_bias: true,
      // wavelengths 6.3 (kept), 63 (blended), 628 and 6283 (scaled)
      rope_scaling: {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 8,
        original_max_position_embeddings: 64,
      },
      pretraining_tp: 1,
      attention_dropout: 0,
      torch_dtype: 'bfloat16',
      transformers_version: '4.45.0',
      use_cache: true,
    },
    ref: {
      type: 'llama',
      vocab: 29,
      d: 16,
      inter: 20,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      headDim: 8,
      eps: 1e-5,
      theta: 10000,
      tied: false,
      attentionBias: true,
      mlpBias: true,
      rope: { type: 'llama3', factor: 8, low: 1, high: 8, original: 64 },
    },
  },
  qwen2: {
    json: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      vocab_size: 29,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      max_position_embeddings: 64,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      sliding_window: 32768,
      use_sliding_window: false,
      max_window_layers: 21,
      attention_dropout: 0,
    },
    ref: {
      type: 'qwen2',
      vocab: 29,
      d: 16,
      inter: 24,
      layers: 2,
      heads: 4,
      kvHeads: 1,
      headDim: 4,
      eps: 1e-6,
      theta: 1000000,
      tied: false,
      attentionBias: true,
      mlpBias: false,
    },
  },
  qwen3: {
    json: {
      architectures: ['Qwen3ForCausalLM'],
      model_type: 'qwen3',
      vocab_size: 29,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 8,
      max_position_embeddings: 64,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      rope_scaling: { rope_type: 'linear', factor: 2 },
      attention_bias: false,
      layer_types: ['full_attention', 'full_attention'],
    },
    ref: {
      type: 'qwen3',
      vocab: 29,
      d: 16,
      inter: 24,
      layers: 2,
      heads: 2,
      kvHeads: 1,
      headDim: 8,
      eps: 1e-6,
      theta: 1000000,
      tied: false,
      attentionBias: false,
      mlpBias: false,
      rope: { type: 'linear', factor: 2 },
    },
  },
};

/**
 * Random weights exactly representable in F32, BF16 and F16 (k / 256 with |k| ≤ 64; norms
 * k / 64 in [0.75, 1.25]), so the reference sees the very values each file stores.
 */
function randomWeights(c: RefConfig, seed: number): Map<string, number[]> {
  const rand = mulberry32(seed);
  const out = new Map<string, number[]>();
  for (const [name, shape] of refShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith('norm.weight');
    out.set(
      name,
      Array.from({ length: n }, () =>
        norm ? (48 + Math.floor(rand() * 33)) / 64 : (Math.floor(rand() * 129) - 64) / 256,
      ),
    );
  }
  return out;
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The checkpoint's files: one safetensors file, or two shards and their index. */
function checkpointFiles(
  json: Record<string, unknown>,
  weights: Map<string, number[]>,
  shapes: Map<string, number[]>,
  dtype: StoredDtype,
  sharded: boolean,
): Record<string, Uint8Array> {
  const arrays = [...weights].map(
    ([name, data]) => [name, { shape: shapes.get(name)!, data: Float32Array.from(data) }] as const,
  );
  const files: Record<string, Uint8Array> = { 'config.json': encode(json) };
  if (!sharded) {
    files['model.safetensors'] = writeSafetensors(new Map(arrays), { format: 'pt' }, dtype);
    return files;
  }
  const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  names.forEach((file, k) => {
    const part = arrays.filter((_, i) => i % 2 === k);
    for (const [name] of part) weightMap[name] = file;
    files[file] = writeSafetensors(new Map(part), { format: 'pt' }, dtype);
  });
  files['model.safetensors.index.json'] = encode({ metadata: {}, weight_map: weightMap });
  return files;
}

export function memorySource(files: Record<string, Uint8Array>): FileSource {
  return { label: 'the test checkpoint', read: async (path) => files[path] ?? null };
}

/** Two left-padded rows. */
const ids = [
  [0, 0, 0, 5, 6, 7, 28, 9],
  [3, 4, 5, 6, 7, 8, 9, 10],
];
const mask = [
  [0, 0, 0, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1, 1],
];

async function tfjsLogits(files: Record<string, Uint8Array>): Promise<number[][][]> {
  const { model } = await loadModel(memorySource(files), true);
  const logits = tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(ids, mask));
    return model.logits(hidden);
  });
  const out = (await logits.array()) as number[][][];
  tf.dispose(logits);
  model.dispose();
  return out;
}

/** Largest difference over real positions, relative to the largest reference logit. */
function relativeError(got: number[][][], want: number[][][]): number {
  let diff = 0;
  let scale = 0;
  want.forEach((row, b) =>
    row.forEach((logits, t) => {
      if (!mask[b]![t]) return;
      logits.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - got[b]![t]![j]!));
        scale = Math.max(scale, Math.abs(v));
      });
    }),
  );
  return diff / scale;
}

describe('Llama, Qwen2 and Qwen3 against an independent float64 forward', () => {
  const dtypes: StoredDtype[] = ['F32', 'BF16', 'F16'];
  const matrix = (Object.keys(cases) as RefConfig['type'][]).flatMap((arch) =>
    dtypes.flatMap((dtype, k) =>
      [false, true].map((tied) => ({ arch, dtype, tied, sharded: tied !== (k === 1) })),
    ),
  );
  test.each(matrix)(
    '$arch $dtype tied=$tied sharded=$sharded',
    async ({ arch, dtype, tied, sharded }) => {
      const { json, ref: base } = cases[arch];
      const ref = { ...base, tied };
      const weights = randomWeights(ref, 11);
      const files = checkpointFiles(
        { ...json, tie_word_embeddings: tied },
        weights,
        refShapes(ref),
        dtype,
        sharded,
      );
      const want = ids.map((row, b) => refRowLogits(ref, weights, row, mask[b]!));
      const got = await tfjsLogits(files);
      expect(relativeError(got, want)).toBeLessThan(2e-5);
      // A left-padded row equals the same tokens alone.
      const alone = refRowLogits(ref, weights, ids[0]!.slice(3), mask[0]!.slice(3));
      expect(
        Math.max(...alone.flatMap((l, t) => l.map((v, j) => Math.abs(v - got[0]![t + 3]![j]!)))),
      ).toBeLessThan(1e-4);
    },
  );

  test('the reference is sensitive: dropping the Qwen2 biases changes its logits', () => {
    const ref = cases.qwen2.ref;
    const weights = randomWeights(ref, 3);
    const plain = refRowLogits(ref, weights, ids[1]!, mask[1]!);
    const unbiased = new Map([...weights].filter(([n]) => !n.endsWith('.bias')));
    const without = refRowLogits(ref, unbiased, ids[1]!, mask[1]!);
    expect(
      Math.max(...plain.flat().map((v, i) => Math.abs(v - without.flat()[i]!))),
    ).toBeGreaterThan(1e-3);
  });
});

describe('rotary scaling', () => {
  test('llama3, linear and dynamic frequencies follow HF’s definitions', () => {
    const llama3 = {
      rope_type: 'llama3',
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 8,
      original_max_position_embeddings: 64,
    } as const;
    const got = Array.from(ropeFrequencies(8, 10000, llama3));
    // 1 (wavelength 6.28 < 64 / 8: kept); 0.1 (62.8, between 8 and 64: smooth = (64 / 62.83 - 1) / 7);
    // 0.01 and 0.001 (wavelengths above 64: divided by 8).
    const smooth = (64 / ((2 * Math.PI) / 0.1) - 1) / 7;
    expect(got[0]).toBeCloseTo(1, 12);
    expect(got[1]).toBeCloseTo((1 - smooth) * 0.0125 + smooth * 0.1, 12);
    expect(got[2]).toBeCloseTo(0.00125, 12);
    expect(got[3]).toBeCloseTo(0.000125, 12);
    const ref = refFrequencies({ ...cases.llama.ref });
    got.forEach((f, i) => expect(f).toBeCloseTo(ref[i]!, 12));
    expect(Array.from(ropeFrequencies(4, 100, { rope_type: 'linear', factor: 4 }))).toEqual([
      0.25, 0.025,
    ]);
    expect(Array.from(ropeFrequencies(4, 100, { rope_type: 'dynamic', factor: 4 }))).toEqual([
      1, 0.1,
    ]);
  });
});

describe('what the loader refuses, by name', () => {
  const json = cases.qwen2.json;
  test('unknown architectures, keys and values that change the math', () => {
    expect(() => parseModelConfig({ ...json, model_type: 'mistral' })).toThrow(
      'model_type "mistral" is not supported',
    );
    expect(() =>
      parseModelConfig({ ...json, architectures: ['Qwen2ForSequenceClassification'] }),
    ).toThrow('architectures ["Qwen2ForSequenceClassification"] is not supported');
    expect(() => parseModelConfig({ ...json, logit_scale: 0.5 })).toThrow(
      'the key "logit_scale" is not understood',
    );
    expect(() => parseModelConfig({ ...json, use_sliding_window: true })).toThrow(
      '"use_sliding_window": true is not supported (sliding-window attention is not implemented)',
    );
    expect(() => parseModelConfig({ ...json, attention_bias: false })).toThrow(
      'Qwen2 has fixed biases',
    );
    // mlp_bias at the value the math implements is accepted; any other is refused by name.
    for (const c of [cases.qwen2.json, cases.qwen3.json]) {
      expect(parseModelConfig({ ...c, mlp_bias: false }).mlp_bias).toBe(false);
      expect(() => parseModelConfig({ ...c, mlp_bias: true })).toThrow(
        '"mlp_bias": true is not supported',
      );
    }
    expect(() =>
      parseModelConfig({
        ...json,
        model_type: 'llama',
        architectures: undefined,
        rope_scaling: { rope_type: 'yarn', factor: 4 },
      }),
    ).toThrow('rope_scaling of type "yarn" is not supported');
    expect(() =>
      parseModelConfig({
        ...cases.llama.json,
        rope_scaling: { rope_type: 'linear', factor: 2, beta_fast: 3 },
      }),
    ).toThrow('the key "beta_fast" is not understood');
  });

  test('a tensor the model does not use, a missing one, and a bad index', async () => {
    const ref = { ...cases.qwen2.ref, tied: true };
    const weights = randomWeights(ref, 5);
    const cfg = { ...json, tie_word_embeddings: true };
    const extra = new Map(weights).set('lm_head.weight', weights.get('model.embed_tokens.weight')!);
    const shapes = refShapes({ ...ref, tied: false });
    await expect(tfjsLogits(checkpointFiles(cfg, extra, shapes, 'F32', false))).rejects.toThrow(
      'has a tensor "lm_head.weight" that Qwen2ForCausalLM with this config.json does not use (tie_word_embeddings is true',
    );
    const missing = new Map(weights);
    missing.delete('model.layers.1.self_attn.k_proj.bias');
    await expect(tfjsLogits(checkpointFiles(cfg, missing, shapes, 'F32', false))).rejects.toThrow(
      'has no weight "model.layers.1.self_attn.k_proj.bias"',
    );
    // A llama config over Qwen2 weights: the biases are not silently dropped.
    const asLlama = { ...cfg, model_type: 'llama', architectures: ['LlamaForCausalLM'] };
    await expect(
      tfjsLogits(checkpointFiles(asLlama, weights, shapes, 'F32', false)),
    ).rejects.toThrow(
      'has a tensor "model.layers.0.self_attn.k_proj.bias" that LlamaForCausalLM with this config.json does not use',
    );
    const files = checkpointFiles(cfg, weights, shapes, 'F32', true);
    const index = JSON.parse(new TextDecoder().decode(files['model.safetensors.index.json']));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00002.safetensors';
    index.weight_map['model.ghost.weight'] = 'model-00002-of-00002.safetensors';
    files['model.safetensors.index.json'] = encode(index);
    await expect(tfjsLogits(files)).rejects.toThrow(
      /holds "model\.norm\.weight", which model\.safetensors\.index\.json places in|lists "model\.ghost\.weight" in [^ ]*, but that file does not hold it/,
    );
  });
});

describe('half-precision writing', () => {
  test('rounds to nearest even, by hand', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00); // overflow: infinity
    expect(floatToHalf(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie: stays even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // a tie: rounds up to even
    expect(floatToBf16(1)).toBe(0x3f80);
    expect(floatToBf16(-5)).toBe(0xc0a0);
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80); // a tie: stays even
    expect(floatToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });
});
