import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eosIds, parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import {
  readSafetensors,
  writeSafetensors,
  type NamedArray,
} from '../../src/lib/model/checkpoints/safetensors.ts';
import { BpeTokenizer } from '../../src/lib/tokenizer/bpe.ts';
import {
  bpeModelFromJson,
  tokenizerConfigJson,
  tokenizerJson,
} from '../../src/lib/tokenizer/hf-files.ts';

/** Reads a model folder written by saveModelFolder: the tfjs model and our tokenizer. */
export function loadModelFolder(dir: string): { model: LlamaModel; tokenizer: BpeTokenizer } {
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  const weights = new Map([...tensors].map(([n, t]) => [n, tf.tensor(t.data, t.shape)] as const));
  const model = new LlamaModel(config, weights);
  tf.dispose([...weights.values()]);
  const tokenizer = new BpeTokenizer(
    bpeModelFromJson(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'))),
  );
  return { model, tokenizer };
}

/** Writes a model folder in the Hugging Face layout (config, generation config, tokenizer, weights). */
export async function saveModelFolder(
  dir: string,
  model: LlamaModel,
  tokenizer: BpeTokenizer,
  metadata: Record<string, string | number>,
): Promise<void> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, v] of model.params)
    tensors.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  const meta = Object.fromEntries(
    Object.entries({ format: 'pt', ...metadata }).map(([k, v]) => [k, String(v)]),
  );
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, meta));
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  writeFileSync(join(dir, 'config.json'), json(model.config));
  writeFileSync(
    join(dir, 'generation_config.json'),
    json({
      eos_token_id: eosIds(model.config),
      pad_token_id: model.config.pad_token_id,
      do_sample: true,
      temperature: 1.0,
      max_new_tokens: 96,
    }),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(tokenizer.model)));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    json(tokenizerConfigJson(model.config.max_position_embeddings)),
  );
}
