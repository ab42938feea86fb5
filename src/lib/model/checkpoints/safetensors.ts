/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. We read and write
 * float32, float16 and bfloat16 (read as float32, the one float type tfjs computes in), which
 * covers HF checkpoints of small Llama and Qwen models.
 */
import {
  checkHeaderEntries,
  storedDtypeBytes,
  topLevelKeys,
  type RawEntry,
} from './checkpoint-check.ts';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** The stored number formats this app reads and writes. */
export type StoredDtype = keyof typeof storedDtypeBytes;
const bytesPer: Record<StoredDtype, number> = storedDtypeBytes;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const bitsOf = (x: number) => {
  scratch[0] = x;
  return scratchBits[0]!;
};

/** float32 -> IEEE half bits, rounding to nearest even (overflow to infinity). */
export const floatToHalf = (x: number): number => halfOfBits(bitsOf(x));
/** float32 -> bfloat16 bits (the upper half, rounded to nearest even). */
export const floatToBf16 = (x: number): number => bf16OfBits(bitsOf(x));

function halfOfBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

function bf16OfBits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000) return bits >>> 16;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Writes tensors (sorted by name) in `dtype`; F16 and BF16 round each value to nearest even. */
export function writeSafetensors(
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
  dtype: StoredDtype = 'F32',
): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`Tensor "${name}": shape [${t.shape}] does not match its data.`);
    const bytes = count * bytesPer[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    if (dtype === 'F32') out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else {
      const convert = dtype === 'F16' ? halfOfBits : bf16OfBits;
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < data.length; i++) view.setUint16(at + 2 * i, convert(bits[i]!), true);
    }
    at += data.length * bytesPer[dtype];
  }
  return out;
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decode(dtype: string, bytes: Uint8Array, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      // One copy, no loop (a fresh Uint8Array: Node's Buffer.slice is a view of a shared pool).
      if (littleEndian) return new Float32Array(new Uint8Array(bytes).buffer);
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new Error(`Tensor "${name}" has dtype ${dtype}; only F32, F16 and BF16 can be read.`);
  }
}

/** One tensor of a file: its dtype, shape and absolute byte range. */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

/** The length of the JSON header, from a file's first 8 bytes; `where` names the file. */
export function headerLength(first8: Uint8Array, where = 'The file'): number {
  if (first8.byteLength < 8)
    throw new Error(`${where} is not a safetensors file: shorter than its 8-byte header length.`);
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n <= 0 || n > 100_000_000)
    throw new Error(
      `${where} is not a safetensors file: its header length (${n}) is not plausible.`,
    );
  return n;
}

/**
 * The tensors a file holds, from its first 8 + header-length bytes (`prefix`), checked
 * (checkpoint-check.ts): each named once, a known dtype, a whole-number shape matching its byte
 * range, no two ranges overlapping and, with `fileLength`, every range inside the file.
 * `where` names the file in every message ("model.safetensors of the folder …").
 */
export function safetensorsHeader(
  prefix: Uint8Array,
  fileLength?: number,
  where = 'The file',
): { entries: TensorEntry[]; metadata: Record<string, string> } {
  const length = headerLength(prefix, where);
  const known = fileLength ?? prefix.byteLength;
  if (8 + length > known)
    throw new Error(
      `${where} is not a safetensors file, or is truncated: its header length points past the end of the file.`,
    );
  const text = new TextDecoder().decode(prefix.subarray(8, 8 + length));
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not a safetensors file: its header is not valid JSON.`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new Error(`${where} is not a safetensors file: its header is not a JSON object.`);
  const names = topLevelKeys(text);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw new Error(
      `${where}: the tensor "${twice}" is named twice in the header; the file is corrupt.`,
    );
  const dataStart = 8 + length;
  const { __metadata__: meta, ...tensors } = header as Record<string, unknown>;
  const raw = Object.entries(tensors) as [string, RawEntry][];
  checkHeaderEntries(raw, where, fileLength === undefined ? null : fileLength - dataStart);
  const metadata: Record<string, string> = {};
  if (meta !== undefined) {
    if (!meta || typeof meta !== 'object' || Array.isArray(meta))
      throw new Error(`${where}: "__metadata__" is not an object of strings.`);
    for (const [key, value] of Object.entries(meta)) {
      if (typeof value !== 'string')
        throw new Error(`${where}: "__metadata__" holds "${key}", which is not a string.`);
      metadata[key] = value;
    }
  }
  const entries = raw.map(([name, e]) => {
    const [start, end] = e.data_offsets as [number, number];
    return {
      name,
      dtype: e.dtype as string,
      shape: e.shape as number[],
      start: dataStart + start,
      end: dataStart + end,
    };
  });
  return { entries, metadata };
}

/** One tensor's values as float32 (F16 and BF16 converted once). */
export function decodeEntry(file: Uint8Array, entry: TensorEntry): Float32Array {
  return decode(entry.dtype, file.subarray(entry.start, entry.end), entry.name);
}

/** Reads every tensor of a safetensors file; a malformed file gets an error that says how,
 * naming it by `where`. */
export function readSafetensors(
  file: Uint8Array,
  where?: string,
): {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
} {
  const { entries, metadata } = safetensorsHeader(file, file.byteLength, where);
  const tensors = new Map<string, NamedArray>();
  for (const entry of entries)
    tensors.set(entry.name, { shape: entry.shape, data: decodeEntry(file, entry) });
  return { tensors, metadata };
}
