/**
 * A y axis that fits its data: the data's range with a little room, never a default span
 * that dwarfs it (uPlot shows a flat line of 0 on 0-100). Pure, for tests.
 */
export function fitRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const span = max - min;
  // A flat line: a band around it scaled to its size (or ±0.01 around 0).
  const pad = span > 0 ? span * 0.08 : Math.max(Math.abs(max) * 0.1, 0.01);
  return [min - pad, max + pad];
}
