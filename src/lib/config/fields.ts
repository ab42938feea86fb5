/**
 * Field tables: every setting of a stage declared once, with its key, type, default, range
 * (or allowed values), unit and one-sentence help, as TRL's `field(default=..., metadata=
 * {"help": ...})` and TensorFlow Playground's property table do. The config types, the
 * defaults, the validator (with its messages), the editor's controls and the share links all
 * derive from these tables, so a new setting is one entry in one table.
 *
 * A leaf module: it imports nothing.
 */

interface FieldBase {
  /** What the editor calls it ("KL coefficient"). */
  label: string;
  /** One sentence: what it does and why the default is what it is. */
  help: string;
  /** Shown among the main settings of the editor (the rest under "all settings"). */
  main?: boolean;
}

export interface NumberField extends FieldBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  integer?: boolean;
  /** Unit of the value, in words ("tokens", "prompts"); none for plain ratios. */
  unit?: string;
  /** The editor's step (default: 1 for whole numbers, else a hundredth of the default). */
  step?: number;
}

export interface BooleanField extends FieldBase {
  kind: 'boolean';
  default: boolean;
}

export interface ChoiceField<V extends string = string> extends FieldBase {
  kind: 'choice';
  values: readonly V[];
  default: V;
  /** How the editor names each value. */
  names: Record<V, string>;
}

/** Two numbers [low, high]: low in [min, split], high in [split, max]. */
export interface BandField extends FieldBase {
  kind: 'band';
  default: readonly [number, number];
  min: number;
  split: number;
  max: number;
}

/** A nested table (the sampling settings of one kind of text, say). */
export interface GroupField<T extends FieldTable = FieldTable> {
  kind: 'group';
  label: string;
  fields: T;
}

export type Field = NumberField | BooleanField | ChoiceField | BandField | GroupField;
export type FieldTable = { readonly [key: string]: Field };

/** The value a field holds. */
export type ValueOf<F> = F extends NumberField
  ? number
  : F extends BooleanField
    ? boolean
    : F extends ChoiceField<infer V>
      ? V
      : F extends BandField
        ? [number, number]
        : F extends GroupField<infer T>
          ? ConfigOf<T>
          : never;

/** The config a table describes: one property per field. */
export type ConfigOf<T extends FieldTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

// Constructors: they only add `kind`, and keep the literal types of choices.
export const num = (f: Omit<NumberField, 'kind'>): NumberField => ({ kind: 'number', ...f });
export const bool = (f: Omit<BooleanField, 'kind'>): BooleanField => ({ kind: 'boolean', ...f });
export const band = (f: Omit<BandField, 'kind'>): BandField => ({ kind: 'band', ...f });
export const choice = <const V extends string>(
  f: Omit<ChoiceField<V>, 'kind'>,
): ChoiceField<V> => ({ kind: 'choice', ...f });
export const group = <const T extends FieldTable>(label: string, fields: T): GroupField<T> => ({
  kind: 'group',
  label,
  fields,
});

/** The defaults of a table, as a fresh config. */
export function defaultsOf<T extends FieldTable>(table: T): ConfigOf<T> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(table))
    out[key] =
      f.kind === 'group' ? defaultsOf(f.fields) : f.kind === 'band' ? [...f.default] : f.default;
  return out as ConfigOf<T>;
}

/** One problem with a value: the field's path and what is wrong. */
export interface FieldError {
  path: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** "plain", "strict" or "cot". */
export const listOfValues = (values: readonly string[]): string =>
  values.length === 1
    ? `"${values[0]}"`
    : `${values
        .slice(0, -1)
        .map((v) => `"${v}"`)
        .join(', ')} or "${values.at(-1)}"`;

/** Checks one number against its field; returns the message, or null when it is fine. */
export function numberProblem(f: NumberField, v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
  if (f.integer && !Number.isInteger(v)) return 'must be a whole number';
  if (v < f.min || v > f.max) return `must be between ${f.min} and ${f.max}`;
  return null;
}

/** The message for a value that breaks its field, or null (groups are checked key by key). */
function problem(f: Exclude<Field, GroupField>, v: unknown): string | null {
  switch (f.kind) {
    case 'number':
      return numberProblem(f, v);
    case 'boolean':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'choice':
      return f.values.includes(v as string) ? null : `must be ${listOfValues(f.values)}`;
    case 'band':
      return Array.isArray(v) &&
        v.length === 2 &&
        !numberProblem({ ...f, kind: 'number', default: 0, max: f.split }, v[0]) &&
        !numberProblem({ ...f, kind: 'number', default: 0, min: f.split }, v[1])
        ? null
        : `must be two numbers [low, high], low between ${f.min} and ${f.split}, high between ${f.split} and ${f.max}`;
  }
}

/**
 * Checks untrusted data against a table: every field present and in range, no key the table
 * does not know (it would be silently ignored). Returns a fresh config in the table's key
 * order, or null with the problems added to `errors`, each naming its path.
 */
export function checkTable<T extends FieldTable>(
  table: T,
  data: unknown,
  path: string,
  errors: FieldError[],
): ConfigOf<T> | null {
  if (!isObject(data)) {
    errors.push({ path, message: 'must be an object' });
    return null;
  }
  const before = errors.length;
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(table)) {
    const at = `${path}.${key}`;
    const v = data[key];
    if (f.kind === 'group') out[key] = checkTable(f.fields, v, at, errors);
    else if (v === undefined) errors.push({ path: at, message: 'is missing' });
    else {
      const message = problem(f, v);
      if (message) errors.push({ path: at, message });
      out[key] = f.kind === 'band' ? [...(v as number[])] : v;
    }
  }
  for (const key of Object.keys(data))
    if (!Object.hasOwn(table, key))
      errors.push({ path: `${path}.${key}`, message: 'is not a setting this app knows' });
  return errors.length === before ? (out as ConfigOf<T>) : null;
}

/** A field with its dotted path from the table's root ("critique.rounds"). */
export interface FieldAt {
  path: string;
  field: Exclude<Field, GroupField>;
  /** Labels of the groups it sits in, outermost first. */
  groups: string[];
}

/** Every leaf field of a table, depth first, in table order. */
export function fieldsOf(table: FieldTable, prefix = '', groups: string[] = []): FieldAt[] {
  return Object.entries(table).flatMap(([key, f]) =>
    f.kind === 'group'
      ? fieldsOf(f.fields, `${prefix}${key}.`, [...groups, f.label])
      : [{ path: `${prefix}${key}`, field: f, groups }],
  );
}

/** The value at a dotted path of a config. */
export function getAt(root: object, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root);
}

/** Writes the value at a dotted path of a config. */
export function setAt(root: object, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root);
  (parent as Record<string, unknown>)[last] = value;
}
