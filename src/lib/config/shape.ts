/**
 * Shapes of untrusted JSON (an imported run file, a stored record): each shape checks a value
 * field by field and returns a fresh copy holding only the fields it knows, or reports every
 * problem with its path (`events[12].index must be a whole number from 0 to 9`). A key the
 * shape does not know is a problem, never dropped quietly; no inherited property name
 * (`__proto__`, `constructor`) can become a key of a copy.
 *
 * A leaf module: it imports only the field tables' error type.
 */
import type { FieldError } from './fields.ts';

/** Stop listing problems past this many (a damaged file of a million events). */
const maxProblems = 20;

export class Problems {
  readonly list: FieldError[] = [];
  add(path: string, message: string): void {
    if (this.list.length < maxProblems) this.list.push({ path, message });
  }
  get full(): boolean {
    return this.list.length >= maxProblems;
  }
  /** "events[3].stage must be ...; meta.name must be text" (with a count past the cap). */
  describe(): string {
    const more = this.full ? ` (the list stops at ${maxProblems} problems)` : '';
    return this.list.map((e) => `${e.path} ${e.message}`).join('; ') + more;
  }
}

/** A checker of one kind of value: a fresh copy, or undefined with the problems added. */
export interface Shape<T> {
  check(value: unknown, path: string, problems: Problems): T | undefined;
}

/** A field an object may leave out. */
interface Optional<T> extends Shape<T> {
  optional: true;
}

type Out<S> = S extends Shape<infer T> ? T : never;
type Props = Record<string, Shape<unknown>>;
type OptionalKeys<P> = { [K in keyof P]: P[K] extends Optional<unknown> ? K : never }[keyof P];
type ObjectOut<P extends Props> = {
  [K in Exclude<keyof P, OptionalKeys<P>>]: Out<P[K]>;
} & { [K in OptionalKeys<P>]?: Out<P[K]> };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a value is, for a message ("is text", "is null"). */
function what(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string')
    return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : String(v).slice(0, 40);
}

export function text({ max = 100_000, nonEmpty = false } = {}): Shape<string> {
  return {
    check(v, path, p) {
      if (typeof v !== 'string') p.add(path, `must be text (is ${what(v)})`);
      else if (nonEmpty && v.trim() === '') p.add(path, 'must not be empty');
      else if (v.length > max) p.add(path, `is longer than ${max} characters`);
      else return v;
      return undefined;
    },
  };
}

export function number({
  min = -Infinity,
  max = Infinity,
  integer = false,
}: { min?: number; max?: number; integer?: boolean } = {}): Shape<number> {
  const range =
    min > -Infinity && max < Infinity
      ? ` from ${min} to ${max}`
      : min > -Infinity
        ? ` of at least ${min}`
        : max < Infinity
          ? ` of at most ${max}`
          : '';
  const rule = `must be ${integer ? 'a whole number' : 'a number'}${range}`;
  return {
    check(v, path, p) {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!integer || Number.isInteger(v)) &&
        v >= min &&
        v <= max;
      if (ok) return v;
      p.add(path, `${rule} (is ${what(v)})`);
      return undefined;
    },
  };
}

export const boolean: Shape<boolean> = {
  check(v, path, p) {
    if (typeof v === 'boolean') return v;
    p.add(path, `must be true or false (is ${what(v)})`);
    return undefined;
  },
};

/** One of a few strings. */
export function oneOf<const V extends string>(values: readonly V[]): Shape<V> {
  const list = values.map((v) => `"${v}"`).join(', ');
  return {
    check(v, path, p) {
      if (values.includes(v as V)) return v as V;
      p.add(path, `must be one of ${list} (is ${what(v)})`);
      return undefined;
    },
  };
}

export function nullable<T>(shape: Shape<T>): Shape<T | null> {
  return { check: (v, path, p) => (v === null ? null : shape.check(v, path, p)) };
}

export function optional<T>(shape: Shape<T>): Optional<T> {
  return { optional: true, check: (v, path, p) => shape.check(v, path, p) };
}

export function list<T>(of: Shape<T>, { min = 0, max = 1_000_000 } = {}): Shape<T[]> {
  return {
    check(v, path, p) {
      if (!Array.isArray(v)) {
        p.add(path, `must be a list (is ${what(v)})`);
        return undefined;
      }
      if (v.length < min || v.length > max) {
        p.add(path, `must have ${min} to ${max} items (has ${v.length})`);
        return undefined;
      }
      const out: T[] = [];
      let ok = true;
      for (let i = 0; i < v.length && !p.full; i++) {
        const item = of.check(v[i], `${path}[${i}]`, p);
        if (item === undefined) ok = false;
        else out.push(item);
      }
      return ok && !p.full ? out : undefined;
    },
  };
}

/** An object with exactly these fields (optional ones may be left out). */
export function object<P extends Props>(props: P): Shape<ObjectOut<P>> {
  return {
    check(v, path, p) {
      if (!isObject(v)) {
        p.add(path, `must be an object (is ${what(v)})`);
        return undefined;
      }
      let ok = true;
      for (const key of Object.keys(v))
        if (!Object.hasOwn(props, key)) {
          p.add(`${path}.${key}`, 'is not a field this app knows');
          ok = false;
        }
      const out: Record<string, unknown> = {};
      for (const [key, shape] of Object.entries(props)) {
        const at = `${path}.${key}`;
        if (!Object.hasOwn(v, key)) {
          if ((shape as Partial<Optional<unknown>>).optional) continue;
          p.add(at, 'is missing');
          ok = false;
          continue;
        }
        const item = shape.check(v[key], at, p);
        if (item === undefined) ok = false;
        else out[key] = item;
      }
      return ok ? (out as ObjectOut<P>) : undefined;
    },
  };
}

/** Names as keys (metric names, label names): any text but an inherited property's name. */
export function record<T>(
  of: Shape<T>,
  { maxKeys = 200, maxKeyLength = 100 } = {},
): Shape<Record<string, T>> {
  return {
    check(v, path, p) {
      if (!isObject(v)) {
        p.add(path, `must be an object (is ${what(v)})`);
        return undefined;
      }
      const keys = Object.keys(v);
      if (keys.length > maxKeys) {
        p.add(path, `has ${keys.length} keys; at most ${maxKeys} are allowed`);
        return undefined;
      }
      let ok = true;
      const out: Record<string, T> = {};
      for (const key of keys) {
        if (key in Object.prototype || key.length > maxKeyLength || key === '') {
          p.add(`${path}.${key.slice(0, 40)}`, 'is not a name this app accepts');
          ok = false;
          continue;
        }
        const item = of.check(v[key], `${path}.${key}`, p);
        if (item === undefined) ok = false;
        else out[key] = item;
      }
      return ok ? out : undefined;
    },
  };
}

/** One of several object shapes, told apart by the text in their `tag` field. */
export function tagged<K extends string, V extends Record<string, Shape<unknown>>>(
  tag: K,
  variants: V,
): Shape<Out<V[keyof V]>> {
  const names = Object.keys(variants);
  const tagShape = oneOf(names);
  return {
    check(v, path, p) {
      if (!isObject(v)) {
        p.add(path, `must be an object (is ${what(v)})`);
        return undefined;
      }
      const name = tagShape.check(v[tag], `${path}.${tag}`, p);
      return name === undefined ? undefined : (variants[name]!.check(v, path, p) as never);
    },
  };
}

/** A shape with a further rule on the checked value (a message, or null when it holds). */
export function refine<T>(shape: Shape<T>, rule: (value: T) => string | null): Shape<T> {
  return {
    check(v, path, p) {
      const out = shape.check(v, path, p);
      if (out === undefined) return undefined;
      const problem = rule(out);
      if (problem === null) return out;
      p.add(path, problem);
      return undefined;
    },
  };
}

/** A shape's checked value, or the problems as one message. */
export function checkShape<T>(
  shape: Shape<T>,
  value: unknown,
  path: string,
): { ok: true; value: T } | { ok: false; message: string } {
  const problems = new Problems();
  const out = shape.check(value, path, problems);
  if (out === undefined || problems.list.length)
    return {
      ok: false,
      message: problems.list.length ? problems.describe() : `${path} is not valid`,
    };
  return { ok: true, value: out };
}
