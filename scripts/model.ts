/**
 * `npm run model`: for people bringing their own checkpoint.
 *   npm run model -- inspect <folder|owner/name> [--revision main] [--hub-endpoint URL]
 *        [--batch 8] [--prompt-tokens 64] [--answer-tokens 64] [--lora-rank 8] [--backend wasm]
 *     prints the architecture, parameter count, stored dtypes and the memory plan (LoRA rank 0
 *     plans a full fine-tune), checking every tensor's name and shape against config.json.
 *   npm run model -- logits <folder> --input ids.json --out logits.json [--backend cpu|wasm]
 *     one forward pass (on the cpu backend unless told): ids.json is {"input_ids": [[...]], "attention_mask": [[...]]} (left
 *     padding allowed), logits.json {"logits": [[[...V floats] per position] per row]}.
 * Exits non-zero with a message on any unsupported or malformed checkpoint or input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isHubId } from '../src/lib/domain/model-id.ts';
import { inspectCheckpoint, inspectLines } from '../src/lib/model/checkpoints/inspect.ts';
import { loadModel, type FileSource } from '../src/lib/model/checkpoints/checkpoint.ts';
import { defaultHubEndpoint, hubBase, checkHubEndpoint } from '../src/lib/model/checkpoints/hub.ts';
import { batchInputs } from '../src/lib/model/architecture/layers.ts';
import { urlSource } from '../src/lib/model/checkpoints/load.ts';
import { realModelLora } from '../src/lib/model/adapters/lora-config.ts';
import { wasmHeapBytes } from '../src/lib/model/memory-plan.ts';
import { folderSource } from './lib/folder-source.ts';
import { useNodeCpu, useNodeWasm } from './lib/node-tfjs.ts';

const usage = `Usage:
  npm run model -- inspect <folder|owner/name> [--revision R] [--hub-endpoint URL] [--batch N] [--prompt-tokens N] [--answer-tokens N] [--lora-rank N] [--backend wasm|cpu]
  npm run model -- logits <folder> --input ids.json --out logits.json [--backend wasm|cpu]`;

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    revision: { type: 'string', default: 'main' },
    'hub-endpoint': { type: 'string', default: process.env.HF_ENDPOINT ?? defaultHubEndpoint },
    batch: { type: 'string', default: '8' },
    'prompt-tokens': { type: 'string', default: '64' },
    'answer-tokens': { type: 'string', default: '64' },
    'lora-rank': { type: 'string', default: String(realModelLora.rank) },
    /** logits: cpu unless told (float32 reference math); inspect: plans for wasm unless told. */
    backend: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
  },
});

function wholeNumber(name: string, min: number): number {
  const value = Number(args[name as keyof typeof args]);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be a whole number of at least ${min}.`);
  return value;
}

function sourceOf(where: string): FileSource {
  if (existsSync(where)) return folderSource(where);
  if (isHubId(where))
    return urlSource(
      hubBase(checkHubEndpoint(args['hub-endpoint']), where, args.revision),
      `the Hub model ${where}`,
    );
  throw new Error(`"${where}" is neither a folder nor a Hugging Face id like "owner/name".`);
}

async function useBackend(): Promise<string> {
  const backend = args.backend ?? 'cpu';
  if (backend === 'wasm') return useNodeWasm();
  if (backend === 'cpu') return useNodeCpu();
  throw new Error(`--backend must be wasm or cpu, not "${backend}".`);
}

/** ids.json, checked: rows of whole numbers in the vocabulary, a 0/1 mask of the same shape. */
function readIds(file: string, vocab: number): { ids: number[][]; mask: number[][] } {
  let json: { input_ids?: unknown; attention_mask?: unknown };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not a JSON file (${String(error)}).`);
  }
  const unknown = Object.keys(json).filter((k) => k !== 'input_ids' && k !== 'attention_mask');
  if (unknown.length) throw new Error(`${file}: unknown key "${unknown[0]}".`);
  const rows = json.input_ids;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(Array.isArray))
    throw new Error(`${file}: "input_ids" must be a list of rows of token ids.`);
  const length = (rows[0] as unknown[]).length;
  const ids = rows as number[][];
  if (length === 0 || ids.some((r) => r.length !== length))
    throw new Error(`${file}: every row of "input_ids" must have the same, non-zero length.`);
  for (const r of ids)
    for (const id of r)
      if (!Number.isInteger(id) || id < 0 || id >= vocab)
        throw new Error(`${file}: token id ${id} is not in the vocabulary (0 to ${vocab - 1}).`);
  const mask = (json.attention_mask ?? ids.map((r) => r.map(() => 1))) as number[][];
  if (
    !Array.isArray(mask) ||
    mask.length !== ids.length ||
    mask.some(
      (r, i) =>
        !Array.isArray(r) ||
        r.length !== length ||
        r.some((m) => m !== 0 && m !== 1) ||
        !r.includes(1) ||
        i < 0,
    )
  )
    throw new Error(
      `${file}: "attention_mask" must be rows of 0 and 1 shaped like "input_ids", each with a real token.`,
    );
  return { ids, mask };
}

async function logits(where: string): Promise<void> {
  if (!args.input || !args.out)
    throw new Error('logits needs --input ids.json and --out logits.json.');
  const backend = await useBackend();
  const limit = backend === 'wasm' ? wasmHeapBytes : null; // refused before allocating past it
  const { model } = await loadModel(folderSource(where), true, limit);
  const { ids, mask } = readIds(args.input, model.config.vocab_size);
  const out = tf.tidy(() => {
    const { hidden } = model.forward(batchInputs(ids, mask));
    return model.logits(hidden);
  });
  const values = (await out.array()) as number[][][];
  const bad = values.flat(2).find((x) => !Number.isFinite(x));
  if (bad !== undefined)
    throw new Error(
      `The logits hold ${bad}: the checkpoint's weights or its config (rope_theta, rms_norm_eps) are broken. Nothing was written.`,
    );
  writeFileSync(args.out, JSON.stringify({ logits: values }));
  console.log(`Wrote ${args.out}: logits [${out.shape.join(', ')}] on ${backend}.`);
  tf.dispose(out);
  model.dispose();
}

async function inspect(where: string): Promise<void> {
  const rank = wholeNumber('lora-rank', 0);
  const backend = args.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu' && backend !== 'webgpu')
    throw new Error(`--backend must be wasm, cpu or webgpu, not "${backend}".`);
  const report = await inspectCheckpoint(sourceOf(where), {
    lora: rank === 0 ? null : { ...realModelLora, rank, alpha: 2 * rank },
    shape: {
      batch: wholeNumber('batch', 1),
      promptTokens: wholeNumber('prompt-tokens', 1),
      answerTokens: wholeNumber('answer-tokens', 1),
    },
    limits: {
      backend,
      totalBytes: backend === 'wasm' ? wasmHeapBytes : null,
      maxTensorBytes: null,
    },
  });
  console.log(inspectLines(report).join('\n'));
}

async function main(): Promise<void> {
  const [command, where, ...rest] = positionals;
  if (!command || !where || rest.length) throw new Error(usage);
  if (command === 'inspect') await inspect(where);
  else if (command === 'logits') await logits(where);
  else throw new Error(`Unknown command "${command}".\n${usage}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
