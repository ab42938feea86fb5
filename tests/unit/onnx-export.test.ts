import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { saveModelFolder } from '../../scripts/lib/model-folder.ts';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { generate } from '../../src/lib/model/generation/generate.ts';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { batchInputs } from '../../src/lib/model/architecture/layers.ts';
import { exportLlamaOnnx } from '../../src/lib/model/checkpoints/onnx/export-llama.ts';
import { readSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { BpeTokenizer, trainBpe } from '../../src/lib/tokenizer/bpe.ts';
import { specialTokens } from '../../src/lib/tokenizer/hf-files.ts';
import { useCpu } from './tf-setup.ts';

const config = parseModelConfig({
  model_type: 'llama',
  vocab_size: 300,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
  initializer_range: 0.2,
  eos_token_id: 2,
  pad_token_id: 0,
});

let folder: string;
let model: LlamaModel;

beforeAll(async () => {
  await useCpu();
  const tokenizer = new BpeTokenizer(
    trainBpe(['hello world', 'hello there world'], 300, specialTokens),
  );
  model = LlamaModel.init({ ...config, vocab_size: tokenizer.vocabSize }, 11);
  folder = join(mkdtempSync(join(tmpdir(), 'cai-onnx-')), 'tiny');
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  await saveModelFolder(folder, model, tokenizer, {});
  const { readFileSync } = await import('node:fs');
  const { tensors } = readSafetensors(
    new Uint8Array(readFileSync(join(folder, 'model.safetensors'))),
  );
  writeFileSync(join(folder, 'onnx', 'model.onnx'), exportLlamaOnnx(model.config, tensors));
  env.allowRemoteModels = false;
  env.localModelPath = dirname(folder) + '/';
});

const int64 = (rows: number[][]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

test('the ONNX export gives the tfjs logits (left-padded batch) to 1e-4 under transformers.js', async () => {
  const onnx = await AutoModelForCausalLM.from_pretrained(basename(folder), { dtype: 'fp32' });
  const ids = [
    [0, 0, 5, 9, 12, 40],
    [7, 8, 9, 10, 11, 12],
  ];
  const mask = [
    [0, 0, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ];
  const out = (await onnx({ input_ids: int64(ids), attention_mask: int64(mask) })) as {
    logits: Tensor;
  };
  const expected = tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(ids, mask));
    return model.logits(hidden);
  });
  const want = await expected.data();
  expected.dispose();
  const got = out.logits.data as Float32Array;
  expect(out.logits.dims).toEqual([2, 6, model.config.vocab_size]);
  let worst = 0;
  for (let b = 0; b < 2; b++)
    for (let t = 0; t < 6; t++) {
      if (!mask[b]![t]) continue; // padded positions are never read
      for (let v = 0; v < model.config.vocab_size; v++) {
        const i = (b * 6 + t) * model.config.vocab_size + v;
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      }
    }
  expect(worst).toBeLessThan(1e-4);

  // Greedy generation through transformers.js (its own KV-cache loop) matches ours.
  const prompt = [5, 9, 12];
  const theirs = (await onnx.generate({
    input_ids: int64([prompt]),
    attention_mask: int64([[1, 1, 1]]),
    max_new_tokens: 8,
    min_new_tokens: 8,
    do_sample: false,
  })) as Tensor;
  const ours = await generate(model, [prompt], {
    maxNewTokens: 8,
    seed: 0,
    eosIds: [],
    padId: 0,
    temperature: 0,
    topK: 0,
    topP: 1,
  });
  expect(Array.from(theirs.data as BigInt64Array, Number).slice(3)).toEqual(ours.tokens[0]);
});
