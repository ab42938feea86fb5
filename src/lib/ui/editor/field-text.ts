import type { Field, GroupField } from '../../config/fields.ts';

/** A value as the editor writes it (1e-5, not 0.00001). */
export function formatValue(v: number | boolean | string | readonly number[]): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return String(v);
}

/** A plural unit for one of it ("1 pass", "1 answer"). */
function unitFor(n: number, unit: string): string {
  if (n !== 1) return unit;
  return unit.endsWith('sses') ? unit.slice(0, -2) : unit.replace(/s$/, '');
}

/** A field's help with its default, unit and range, all read from the field table. */
export function fieldHelp(f: Exclude<Field, GroupField>): string {
  const unit = f.kind === 'number' && f.unit ? ` ${unitFor(f.default, f.unit)}` : '';
  const dflt = f.kind === 'choice' ? f.names[f.default] : formatValue(f.default);
  const range =
    f.kind === 'number'
      ? ` (${formatValue(f.min)} to ${formatValue(f.max)}${f.integer ? ', whole numbers' : ''})`
      : f.kind === 'band'
        ? ` (low ${f.min} to ${f.split}, high ${f.split} to ${f.max})`
        : '';
  return `${f.help} Default ${dflt}${unit}${range}.`;
}
