/**
 * The checks every checkpoint passes, whoever reads it (`inspect`, loading, the page, the Hub
 * downloader): file names that stay inside the model's folder (or Hub repository), safetensors
 * headers whose tensors are each named once, of a known dtype, with a whole-number shape, and
 * with byte ranges that neither overlap nor leave the data, and weights that are finite.
 * Every message names the file, and the tensor where there is one.
 */

/** The stored number formats this app reads, with their bytes per value. */
export const storedDtypeBytes = { F32: 4, F16: 2, BF16: 2 } as const;

/**
 * Throws unless `name` (a shard named by an index, a file asked of the Hub) is a plain path
 * inside the folder: segments of letters, digits, '.', '_' and '-', no '..' or '.', no
 * leading '/', no backslash, scheme, query or fragment.
 */
export function checkFileName(name: unknown, namedBy: string): string {
  const segments = typeof name === 'string' ? name.split('/') : [];
  const plain =
    segments.length > 0 &&
    segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..');
  if (!plain)
    throw new Error(
      `${namedBy} names the file ${JSON.stringify(name)}, which is not a plain file name inside the model's folder; it is not read.`,
    );
  return name as string;
}

/**
 * The top-level keys of a JSON object's text, in order and with repeats (JSON.parse keeps only
 * the last of a repeated key, so a tensor named twice would pass unseen). Assumes valid JSON.
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/** One tensor of a safetensors header, as stored (offsets relative to the data). */
export interface RawEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * Checks a header's tensors: each a known dtype, a shape of whole numbers, offsets inside the
 * `dataBytes` after the header (when known) whose length matches the shape, and no two ranges
 * overlapping. `where` names the file ("model.safetensors of the folder …").
 */
export function checkHeaderEntries(
  entries: [string, RawEntry][],
  where: string,
  dataBytes: number | null,
): void {
  const fail = (name: string, what: string) =>
    new Error(`${where}: tensor "${name}" ${what}; the file is corrupt.`);
  const ranges: [number, number, string][] = [];
  for (const [name, e] of entries) {
    if (!e || typeof e !== 'object') throw fail(name, 'is not an object with dtype and shape');
    const bytes = storedDtypeBytes[e.dtype as keyof typeof storedDtypeBytes];
    if (!bytes)
      throw fail(
        name,
        `has dtype ${JSON.stringify(e.dtype)}; only ${Object.keys(storedDtypeBytes).join(', ')} can be read`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every(isCount))
      throw fail(name, `has the shape ${JSON.stringify(e.shape)}, not a list of whole numbers`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
      throw fail(name, `has data_offsets ${JSON.stringify(offsets)}, not two whole numbers`);
    const [start, end] = offsets as [number, number];
    if (start > end || (dataBytes !== null && end > dataBytes))
      throw fail(name, `lies outside the file (bytes ${start}-${end}; the file is truncated?)`);
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (count * bytes !== end - start)
      throw fail(name, `has shape [${e.shape.join(', ')}] but ${(end - start) / bytes} values`);
    ranges.push([start, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let reach: [number, string] = [0, '']; // the furthest end so far, and whose
  for (const [start, end, name] of ranges) {
    if (start < reach[0] && start < end)
      throw fail(name, `overlaps "${reach[1]}" (both claim byte ${start} of the data)`);
    if (end > reach[0]) reach = [end, name];
  }
}

/** Throws, naming the tensor and where it came from, when a value is NaN or infinite. */
export function checkFinite(name: string, data: Float32Array, where: string): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]!))
      throw new Error(
        `${where}: tensor "${name}" holds ${data[i]} at value ${i}; a model with non-finite weights answers garbage, so it is not loaded.`,
      );
}
