import type { Field, GroupField } from '../../config/fields.ts';

/** A value as the editor writes it (1e-5, not 0.00001). */
export function formatValue(v: number | boolean | string | readonly number[]): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return String(v);
}

/** A field's help with its default, unit and range, all read from the field table. */
export function fieldHelp(f: Exclude<Field, GroupField>): string {
  const unit = f.kind === 'number' && f.unit ? ` ${f.unit}` : '';
  const dflt = f.kind === 'choice' ? f.names[f.default] : formatValue(f.default);
  const range =
    f.kind === 'number'
      ? ` (${formatValue(f.min)} to ${formatValue(f.max)}${f.integer ? ', whole numbers' : ''})`
      : '';
  return `${f.help} Default ${dflt}${unit}${range}.`;
}
