/**
 * Reads a Hugging Face checkpoint from any source of files (a folder served over HTTP, files
 * the user dropped, the Hub, a directory on disk): config.json, then `model.safetensors` or the
 * shards named by `model.safetensors.index.json`. Each tensor is converted to float32 once and
 * handed on as it is read, so no second copy of the weights is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  parseModelConfig,
  parameterShapes,
  unusedTensorError,
  type ModelConfig,
} from './config.ts';
import { LlamaModel } from './llama.ts';
import { decodeEntry, headerLength, safetensorsHeader, type TensorEntry } from './safetensors.ts';

/** Where a model's files come from. */
export interface FileSource {
  /** How messages name it ("the folder /models/x/", "the Hub model owner/name"). */
  readonly label: string;
  /** A whole file, or null when the source has no such file (other failures throw). */
  read(path: string): Promise<Uint8Array | null>;
  /** Bytes [start, end) of a file, when the source can read part of one. */
  readRange?(path: string, start: number, end: number): Promise<Uint8Array>;
}

export const indexFile = 'model.safetensors.index.json';
export const weightsFile = 'model.safetensors';

async function readJson(source: FileSource, path: string): Promise<Record<string, unknown> | null> {
  const bytes = await source.read(path);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path} of ${source.label} is not valid JSON (${String(error)}).`);
  }
}

export async function readConfig(source: FileSource): Promise<ModelConfig> {
  const json = await readJson(source, 'config.json');
  if (!json) throw new Error(`${source.label} has no config.json.`);
  return parseModelConfig(json);
}

/** The weight files of a checkpoint: one file, or the shards its index names (with the map). */
export async function weightFiles(
  source: FileSource,
): Promise<{ files: string[]; map: Map<string, string> | null }> {
  const index = await readJson(source, indexFile);
  if (!index) return { files: [weightsFile], map: null };
  const weightMap = index.weight_map;
  if (!weightMap || typeof weightMap !== 'object')
    throw new Error(`${indexFile} of ${source.label} has no "weight_map".`);
  const map = new Map(Object.entries(weightMap as Record<string, string>));
  return { files: [...new Set(map.values())].sort(), map };
}

/** The dtype, shape and place of every tensor, reading only the files' headers when possible. */
export async function listTensors(
  source: FileSource,
): Promise<{ file: string; entries: TensorEntry[] }[]> {
  const { files } = await weightFiles(source);
  const out: { file: string; entries: TensorEntry[] }[] = [];
  for (const file of files) {
    let prefix: Uint8Array | null;
    if (source.readRange) {
      const first = await source.readRange(file, 0, 8);
      prefix = await source.readRange(file, 0, 8 + headerLength(first));
    } else prefix = await source.read(file);
    if (!prefix) throw new Error(`${source.label} has no ${file}.`);
    out.push({ file, entries: safetensorsHeader(prefix).entries });
  }
  return out;
}

/**
 * Reads every weight of the checkpoint, calling `take` with each tensor's float32 values as
 * it is decoded (the caller makes its tensor and drops the array). Checks the index against
 * the shards: a tensor in the wrong shard, or one listed but absent, is an error.
 */
export async function readWeights(
  source: FileSource,
  config: ModelConfig,
  take: (name: string, shape: number[], data: Float32Array, dtype: string) => void,
): Promise<void> {
  const { files, map } = await weightFiles(source);
  const expected = parameterShapes(config);
  const seen = new Set<string>();
  for (const file of files) {
    const bytes = await source.read(file);
    if (!bytes)
      throw new Error(`${source.label} has no ${file}${map ? ` (named by ${indexFile})` : ''}.`);
    const { entries } = safetensorsHeader(bytes, bytes.byteLength);
    for (const entry of entries) {
      if (map && map.get(entry.name) !== file)
        throw new Error(
          `${file} of ${source.label} holds "${entry.name}", which ${indexFile} ${map.has(entry.name) ? `places in ${map.get(entry.name)}` : 'does not list'}.`,
        );
      if (seen.has(entry.name))
        throw new Error(`"${entry.name}" is stored twice in ${source.label}.`);
      seen.add(entry.name);
      if (!expected.has(entry.name)) throw unusedTensorError(config, entry.name, source.label);
      take(entry.name, entry.shape, decodeEntry(bytes, entry), entry.dtype);
    }
  }
  if (map)
    for (const name of map.keys())
      if (!seen.has(name)) throw new Error(`${indexFile} lists "${name}", but no shard holds it.`);
}

/** A model built from a checkpoint; `frozen` for a base under LoRA adapters. */
export async function loadModel(
  source: FileSource,
  frozen: boolean,
): Promise<{ model: LlamaModel; dtypes: Record<string, number> }> {
  const config = await readConfig(source);
  const weights = new Map<string, tf.Tensor>();
  const dtypes: Record<string, number> = {};
  try {
    await readWeights(source, config, (name, shape, data, dtype) => {
      weights.set(name, tf.tensor(data, shape, 'float32'));
      dtypes[dtype] = (dtypes[dtype] ?? 0) + data.length;
    });
    return { model: new LlamaModel(config, weights, frozen), dtypes };
  } finally {
    tf.dispose([...weights.values()]);
  }
}
