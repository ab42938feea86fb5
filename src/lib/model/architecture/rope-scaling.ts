/**
 * Rotary position embeddings' frequencies, with the `rope_scaling` types HF's Llama defines:
 * `linear` (positions divided by `factor`), `dynamic` (NTK: the base grows only once a sequence
 * passes max_position_embeddings, which this app never lets happen, so the angles are the
 * plain ones) and `llama3` (Llama 3.1's per-frequency blend of scaled and unscaled).
 */

export type RopeScaling =
  | { rope_type: 'linear'; factor: number }
  | { rope_type: 'dynamic'; factor: number }
  | {
      rope_type: 'llama3';
      factor: number;
      low_freq_factor: number;
      high_freq_factor: number;
      original_max_position_embeddings: number;
    };

const keysOf: Record<RopeScaling['rope_type'], string[]> = {
  linear: ['factor'],
  dynamic: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};

/** Reads config.json's `rope_scaling` (null, or one of the types above); anything else throws. */
export function ropeScalingOf(value: unknown, maxPositions: number): RopeScaling | null {
  if (value === null || value === undefined) return null;
  const fail = (what: string) => new Error(`config.json: rope_scaling ${what}.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw fail('must be an object or null');
  const json = value as Record<string, unknown>;
  const type = json.rope_type ?? json.type;
  if (type === 'default') return null;
  if (typeof type !== 'string' || !Object.hasOwn(keysOf, type))
    throw fail(
      `of type ${JSON.stringify(type)} is not supported (only ${Object.keys(keysOf).join(', ')})`,
    );
  const wanted = keysOf[type as RopeScaling['rope_type']];
  const out: Record<string, unknown> = { rope_type: type };
  for (const [key, v] of Object.entries(json)) {
    if (key === 'rope_type' || key === 'type') continue;
    if (!wanted.includes(key))
      throw fail(
        `of type "${type}": the key "${key}" is not understood, so the model is not loaded`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw fail(`"${key}" must be a positive number`);
    out[key] = v;
  }
  for (const key of wanted) {
    if (out[key] !== undefined) continue;
    if (key !== 'original_max_position_embeddings') throw fail(`of type "${type}" needs "${key}"`);
    out[key] = maxPositions;
  }
  return out as RopeScaling;
}

/** theta^(-2i/hd) for i < hd/2, adjusted by the scaling: the angle of position p is p · freq. */
export function ropeFrequencies(
  headDim: number,
  theta: number,
  scaling: RopeScaling | null,
): Float64Array {
  const half = headDim / 2;
  const freqs = Float64Array.from({ length: half }, (_, i) => theta ** (-(2 * i) / headDim));
  if (!scaling || scaling.rope_type === 'dynamic') return freqs;
  if (scaling.rope_type === 'linear') return freqs.map((f) => f / scaling.factor);
  const { factor, low_freq_factor: low, high_freq_factor: high } = scaling;
  const context = scaling.original_max_position_embeddings;
  return freqs.map((f) => {
    const wavelength = (2 * Math.PI) / f;
    if (wavelength < context / high) return f; // high frequencies: unchanged
    if (wavelength > context / low) return f / factor; // low frequencies: fully scaled
    const smooth = (context / wavelength - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
