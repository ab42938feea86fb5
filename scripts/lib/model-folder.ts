import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eosIds } from '../../src/lib/model/config.ts';
import type { LlamaModel } from '../../src/lib/model/llama.ts';
import { writeSafetensors, type NamedArray } from '../../src/lib/model/safetensors.ts';
import type { BpeTokenizer } from '../../src/lib/tokenizer/bpe.ts';
import { tokenizerConfigJson, tokenizerJson } from '../../src/lib/tokenizer/hf-files.ts';

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
