/**
 * config.yaml as the `yaml` package writes it, from nested mappings, scalars and flat lists,
 * each with an optional comment, so that any text a run holds (its name, a model id, a
 * principle) reads back as itself in YAML 1.2 readers and in PyYAML (YAML 1.1), which TRL's
 * scripts use:
 * - strings are double-quoted, and the characters PyYAML refuses raw or reads as line breaks
 *   (DEL and the C1 controls, U+0085, U+2028, U+2029, U+FEFF) are written as escapes;
 * - floats always carry a decimal point before an exponent ("1.0e-10": PyYAML reads "1e-10"
 *   as a string);
 * - comments are one line each, their control and line-break characters made spaces.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node, type Tags } from 'yaml';

export type YamlScalar = string | number | boolean | null;

/** A value with its comment (written after it, or above a mapping). */
export interface YamlEntry {
  value: YamlScalar | YamlScalar[] | YamlMapping;
  comment?: string;
}

/** Keys in the order they are written. */
export type YamlMapping = Map<string, YamlEntry>;

/** Floats both YAML versions read as floats (a point before any exponent). */
const floatTag = {
  identify: (v: unknown) => typeof v === 'number' && !Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: /^[-+]?\d*\.\d+(?:[eE][-+]?\d+)?$/,
  resolve: (text: string) => Number(text),
  stringify: ({ value }: { value: unknown }) => {
    const text = String(value);
    return /e/.test(text) && !text.includes('.') ? text.replace('e', '.0e') : text;
  },
};

/** Characters a comment cannot hold as they are: control characters and line breaks. */
// eslint-disable-next-line no-control-regex
const unsafeInComment = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g;
/** Characters the package leaves raw in double-quoted strings that PyYAML refuses or folds. */
const rawForPyYaml = /[\u007f-\u009f\u2028\u2029\ufeff]/g;
const escapeOf = (ch: string): string =>
  ({ '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P' })[ch] ??
  `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

const keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const oneLine = (comment: string) => ' ' + comment.replace(unsafeInComment, ' ');

function node(doc: Document, value: YamlEntry['value']): Node {
  if (value instanceof Map) return mapping(doc, value);
  if (Array.isArray(value)) {
    const seq = new YAMLSeq();
    seq.flow = true;
    seq.items = value.map((v) => scalar(doc, v));
    return seq;
  }
  return scalar(doc, value);
}

function scalar(doc: Document, v: YamlScalar): Node {
  if (typeof v === 'number' && !Number.isFinite(v))
    throw new Error(`YAML: ${v} is not a number a config file can hold.`);
  return doc.createNode(v) as Node;
}

function mapping(doc: Document, entries: YamlMapping): YAMLMap {
  const map = new YAMLMap();
  for (const [key, { value, comment }] of entries) {
    if (!keyPattern.test(key)) throw new Error(`YAML: "${key}" is not a plain key.`);
    const k = new Scalar(key);
    const v = node(doc, value);
    if (comment && value instanceof Map) k.commentBefore = oneLine(comment);
    else if (comment) v.comment = oneLine(comment);
    map.items.push(new Pair(k, v));
  }
  return map;
}

/** A comment line of the file's own ("# …\n"), whatever the text holds. */
export const yamlComment = (text: string): string => `#${oneLine(text)}\n`;

/** The mapping as YAML text, two spaces an indent level. */
export function writeYaml(entries: YamlMapping): string {
  const doc = new Document(null, { customTags: (tags: Tags) => [floatTag, ...tags] });
  doc.contents = mapping(doc, entries);
  const text = doc.toString({
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: 'PLAIN',
    lineWidth: 0,
    indentSeq: false,
    flowCollectionPadding: false,
  });
  // Only double-quoted strings can hold these now (keys are plain, comments cleaned).
  return text.replace(rawForPyYaml, escapeOf);
}
