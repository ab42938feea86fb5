/**
 * Reads a Hugging Face checkpoint from any source of files (a folder served over HTTP, files
 * the user dropped, the Hub, a directory on disk): config.json, then `model.safetensors` or the
 * shards named by `model.safetensors.index.json`. Each tensor is converted to float32 once and
 * handed on as it is read, so no second copy of the weights is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseModelConfig, type ModelConfig } from '../architecture/config.ts';
import { LlamaModel } from '../architecture/llama.ts';
import {
  checkModelBytes,
  checkWeightShapes,
  parameterShapes,
  unusedTensorError,
} from '../architecture/parameters.ts';
import { checkFileName, checkFinite } from './checkpoint-check.ts';
import { decodeEntry, headerLength, safetensorsHeader, type TensorEntry } from './safetensors.ts';

/** Where a model's files come from. */
export interface FileSource {
  /** How messages name it ("the folder /models/x/", "the Hub model owner/name"). */
  readonly label: string;
  /** A whole file, or null when the source has no such file (other failures throw). */
  read(path: string): Promise<Uint8Array | null>;
  /** Bytes [start, end) of a file, when the source can read part of one. */
  readRange?(path: string, start: number, end: number): Promise<Uint8Array>;
  /** A file's length in bytes, when the source knows it without reading the file (null: not). */
  length?(path: string): Promise<number | null>;
}

/** "model.safetensors of the folder /models/x/": how messages name one file of a source. */
export const fileOf = (source: FileSource, path: string) => `${path} of ${source.label}`;

export const indexFile = 'model.safetensors.index.json';
export const weightsFile = 'model.safetensors';

/** A JSON object file of the source (null when it has no such file); anything else is refused,
 * naming the file. */
export async function readJson(
  source: FileSource,
  path: string,
): Promise<Record<string, unknown> | null> {
  const bytes = await source.read(path);
  if (!bytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${path} of ${source.label} is not valid JSON (${String(error)}).`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${path} of ${source.label} is not a JSON object.`);
  return value as Record<string, unknown>;
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
  const where = fileOf(source, indexFile);
  if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap))
    throw new Error(`${where} has no "weight_map" object.`);
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>))
    map.set(name, checkFileName(file, `${where} (for "${name}")`));
  if (map.size === 0) throw new Error(`${where} maps no tensor to a file.`);
  return { files: [...new Set(map.values())].sort(), map };
}

/**
 * Where tensors sit, checked file by file as a checkpoint is read (`inspect` and loading alike):
 * each tensor in the shard the index places it in, none stored twice, and at the end every
 * tensor the index lists found.
 */
class Placement {
  private readonly seen = new Set<string>();

  constructor(
    private readonly source: FileSource,
    private readonly map: Map<string, string> | null,
  ) {}

  check(file: string, entries: TensorEntry[]): void {
    const { map, source } = this;
    for (const { name } of entries) {
      if (map && map.get(name) !== file)
        throw new Error(
          `${fileOf(source, file)} holds "${name}", which ${indexFile} ${map.has(name) ? `places in ${map.get(name)}` : 'does not list'}.`,
        );
      if (this.seen.has(name))
        throw new Error(`"${name}" is stored twice in ${source.label} (again in ${file}).`);
      this.seen.add(name);
    }
  }

  finish(): void {
    if (this.map)
      for (const [name, file] of this.map)
        if (!this.seen.has(name))
          throw new Error(
            `${fileOf(this.source, indexFile)} lists "${name}" in ${file}, but that file does not hold it.`,
          );
  }
}

/**
 * The dtype, shape and place of every tensor, reading only the files' headers when possible,
 * checked as loading checks them (file names, headers, placement against the index).
 */
export async function listTensors(
  source: FileSource,
): Promise<{ file: string; entries: TensorEntry[] }[]> {
  const { files, map } = await weightFiles(source);
  const placement = new Placement(source, map);
  const out: { file: string; entries: TensorEntry[] }[] = [];
  for (const file of files) {
    const where = fileOf(source, file);
    let prefix: Uint8Array | null;
    let length: number | null = null;
    if (source.readRange) {
      const first = await source.readRange(file, 0, 8);
      prefix = await source.readRange(file, 0, 8 + headerLength(first, where));
      length = (await source.length?.(file)) ?? null;
    } else {
      prefix = await source.read(file);
      length = prefix?.byteLength ?? null;
    }
    if (!prefix) throw new Error(`${source.label} has no ${file}.`);
    const { entries } = safetensorsHeader(prefix, length ?? undefined, where);
    placement.check(file, entries);
    out.push({ file, entries });
  }
  placement.finish();
  return out;
}

/**
 * Reads every weight of the checkpoint, calling `take` with each tensor's float32 values as
 * it is decoded (the caller makes its tensor and drops the array). Before reading any, refuses
 * a model larger than `limitBytes` (a backend's memory; null: the 16 GiB no tab holds). Checks
 * the index against the shards (a tensor in the wrong shard, or one listed but absent, is an
 * error) and every value (a NaN or infinite weight is refused, naming the tensor).
 */
export async function readWeights(
  source: FileSource,
  config: ModelConfig,
  take: (name: string, shape: number[], data: Float32Array, dtype: string) => void,
  limitBytes: number | null = null,
): Promise<void> {
  checkModelBytes(config, source.label, limitBytes);
  const { files, map } = await weightFiles(source);
  const expected = parameterShapes(config);
  const placement = new Placement(source, map);
  const stored = new Map<string, number[]>();
  for (const file of files) {
    const bytes = await source.read(file);
    if (!bytes)
      throw new Error(`${source.label} has no ${file}${map ? ` (named by ${indexFile})` : ''}.`);
    const where = fileOf(source, file);
    const { entries } = safetensorsHeader(bytes, bytes.byteLength, where);
    placement.check(file, entries);
    for (const entry of entries) {
      const shape = expected.get(entry.name);
      if (!shape) throw unusedTensorError(config, entry.name, source.label);
      if (shape.join() !== entry.shape.join())
        throw new Error(
          `${where}: "${entry.name}" has shape [${entry.shape}], expected [${shape}].`,
        );
      const data = decodeEntry(bytes, entry);
      checkFinite(entry.name, data, where);
      stored.set(entry.name, entry.shape);
      take(entry.name, entry.shape, data, entry.dtype);
    }
  }
  placement.finish();
  checkWeightShapes(config, stored, source.label); // a weight missing, or of a wrong shape
}

/** A model built from a checkpoint; `frozen` for a base under LoRA adapters. */
export async function loadModel(
  source: FileSource,
  frozen: boolean,
  limitBytes: number | null = null,
): Promise<{ model: LlamaModel; dtypes: Record<string, number> }> {
  const config = await readConfig(source);
  const weights = new Map<string, tf.Tensor>();
  const dtypes: Record<string, number> = {};
  try {
    await readWeights(
      source,
      config,
      (name, shape, data, dtype) => {
        weights.set(name, tf.tensor(data, shape, 'float32'));
        dtypes[dtype] = (dtypes[dtype] ?? 0) + data.length;
      },
      limitBytes,
    );
    return { model: new LlamaModel(config, weights, frozen), dtypes };
  } finally {
    tf.dispose([...weights.values()]);
  }
}
