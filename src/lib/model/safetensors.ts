/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. We write float32 and
 * read float32, float16 and bfloat16 (converted to float32), which covers HF checkpoints of
 * small Llama models.
 */

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

export function writeSafetensors(
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`Tensor "${name}": shape [${t.shape}] does not match its data.`);
    header[name] = {
      dtype: 'F32',
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

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

/** Reads every tensor of a safetensors file; a malformed file gets an error that says how. */
export function readSafetensors(file: Uint8Array): {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
} {
  if (file.byteLength < 8)
    throw new Error('Not a safetensors file: shorter than its 8-byte header length.');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > file.byteLength)
    throw new Error('Not a safetensors file: the header length points past the end of the file.');
  let header: Record<string, HeaderEntry>;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error('Not a safetensors file: the header is not valid JSON.');
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    const [start, end] = entry.data_offsets;
    if (dataStart + end > file.byteLength || start > end)
      throw new Error(`Tensor "${name}" lies outside the file: the file is truncated or corrupt.`);
    const data = decode(entry.dtype, file.subarray(dataStart + start, dataStart + end), name);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (count !== data.length)
      throw new Error(
        `Tensor "${name}": shape [${entry.shape}] does not match its ${data.length} values.`,
      );
    tensors.set(name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}
