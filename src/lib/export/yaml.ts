/**
 * A small YAML writer for the files this app exports (config.yaml): nested mappings, scalars
 * and flat lists, each with an optional comment. Strings are always double-quoted (JSON's
 * escapes are YAML's), and floats always carry a decimal point, so YAML 1.1 readers (PyYAML)
 * and YAML 1.2 readers read the same values.
 */

export type YamlScalar = string | number | boolean | null;

/** A value with its comment (written after it, or above a mapping). */
export interface YamlEntry {
  value: YamlScalar | YamlScalar[] | YamlMapping;
  comment?: string;
}

/** Keys in the order they are written. */
export type YamlMapping = Map<string, YamlEntry>;

function scalar(v: YamlScalar): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (!Number.isFinite(v)) throw new Error(`YAML: ${v} is not a number a config file can hold.`);
  const text = String(v);
  // PyYAML reads "1e-05" as a string: a float needs a point, and its exponent a sign.
  return /e/.test(text) && !text.includes('.') ? text.replace('e', '.0e') : text;
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

const commentLines = (comment: string, indent: string): string =>
  comment
    .split('\n')
    .map((line) => `${indent}# ${line}`.trimEnd() + '\n')
    .join('');

/** The mapping as YAML text, two spaces an indent level. */
export function writeYaml(mapping: YamlMapping, depth = 0): string {
  const indent = '  '.repeat(depth);
  let out = '';
  for (const [key, { value, comment }] of mapping) {
    if (!keyPattern.test(key)) throw new Error(`YAML: "${key}" is not a plain key.`);
    if (value instanceof Map) {
      if (comment) out += commentLines(comment, indent);
      out += value.size
        ? `${indent}${key}:\n${writeYaml(value, depth + 1)}`
        : `${indent}${key}: {}\n`;
      continue;
    }
    const text = Array.isArray(value) ? `[${value.map(scalar).join(', ')}]` : scalar(value);
    out += `${indent}${key}: ${text}${comment ? `  # ${comment.replace(/\n/g, ' ')}` : ''}\n`;
  }
  return out;
}
