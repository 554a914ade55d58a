/**
 * A JSON Schema compiled into the rules `checkTape` (check.ts) judges a body's tape by: the
 * keywords whose verdict the bytes give exactly, as ajv v8 gives it under the input
 * profile (draft-07, no coercion, no defaults). A schema with any other keyword (or a
 * `$ref` outside the document, a nested `$id`) does not compile.
 */
import { resolveLocalRef } from './schema-ref.js';

/** A schema compiled for {@link checkTape}; opaque to readers. */
export interface JsonCheck {
  readonly root: Rule;
}

/** JSON types as bits; `number` and `integer` are checked on the number's value. */
export const T_OBJECT = 1;
export const T_ARRAY = 2;
export const T_STRING = 4;
export const T_NUMBER = 8;
export const T_INTEGER = 16;
export const T_BOOLEAN = 32;
export const T_NULL = 64;
const T_ANY = 127;
const TYPE_BITS: Readonly<Record<string, number>> = { object: T_OBJECT, array: T_ARRAY, string: T_STRING, number: T_NUMBER, integer: T_INTEGER, boolean: T_BOOLEAN, null: T_NULL };

export type Primitive = string | number | boolean | null;

/** One schema object, compiled. Cycles (`$ref` back up) share the rule. */
export interface Rule {
  types: number;
  enumValues: readonly Primitive[] | undefined;
  /** The enum's strings as UTF-8, to compare a string without escapes by its bytes. */
  enumBytes: readonly Buffer[];
  minimum: number;
  maximum: number;
  exclusiveMinimum: number;
  exclusiveMaximum: number;
  minLength: number;
  maxLength: number;
  /** Member names `properties` or `required` give, their UTF-8 bytes, and their `properties` rules (none for a name only required). */
  names: string[];
  nameBytes: Buffer[];
  properties: Array<Rule | undefined>;
  /** Bit k: `names[k]` is required. */
  required: number;
  /** `additionalProperties`: undefined allows anything, null nothing. */
  additional: Rule | null | undefined;
  items: Rule | undefined;
  minItems: number;
  maxItems: number;
  allOf: Rule[];
  anyOf: Rule[][];
}

/** Keywords that never look at the value. */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'default', 'examples', '$schema', 'definitions', '$defs', 'readOnly', 'writeOnly', 'deprecated']);

/** A `required` list longer than this does not compile (a bit each). */
export const MAX_REQUIRED = 31;

class Unsupported extends Error {}

/**
 * The check for `schema`, or undefined when it uses anything not compiled here.
 * @example
 * compileJsonCheck({ type: 'object', required: ['model'], properties: { model: { type: 'string', minLength: 1 } } })
 */
export function compileJsonCheck(schema: unknown): JsonCheck | undefined {
  const rules = new Map<object, Rule>();
  /** Bare `$ref`s being followed: one met again is a cycle of references to nothing. */
  const following = new Set<object>();

  function rule(at: unknown): Rule {
    if (at === true) return emptyRule();
    if (at === false) return { ...emptyRule(), types: 0 };
    if (!isObject(at)) throw new Unsupported();
    if (at !== schema && hasOwn(at, '$id')) throw new Unsupported();
    const known = rules.get(at);
    if (known) return known;
    const alias = bareRef(at);
    if (alias !== undefined) {
      // `{ $ref }` alone is its target: one rule, not a rule that only defers to it.
      const target = resolveLocalRef(schema, alias);
      if (target === undefined || following.has(at)) throw new Unsupported();
      following.add(at);
      const targetRule = rule(target);
      following.delete(at);
      rules.set(at, targetRule);
      return targetRule;
    }
    const r = emptyRule();
    rules.set(at, r);
    // Required names take the first bits; properties come after them.
    const required = at.required === undefined ? [] : names(at.required);
    if (required.length > MAX_REQUIRED) throw new Unsupported();
    for (const name of required) r.required |= 1 << addName(r, name, undefined);
    for (const [keyword, value] of Object.entries(at)) {
      if (ANNOTATIONS.has(keyword) || (keyword === '$id' && at === schema)) continue;
      switch (keyword) {
        case 'type':
          r.types &= typeBits(value);
          break;
        case 'enum':
          r.enumValues = intersect(r.enumValues, primitives(value));
          break;
        case 'const':
          r.enumValues = intersect(r.enumValues, primitives([value]));
          break;
        case 'minimum':
          r.minimum = Math.max(r.minimum, finite(value));
          break;
        case 'maximum':
          r.maximum = Math.min(r.maximum, finite(value));
          break;
        case 'exclusiveMinimum':
          r.exclusiveMinimum = Math.max(r.exclusiveMinimum, finite(value));
          break;
        case 'exclusiveMaximum':
          r.exclusiveMaximum = Math.min(r.exclusiveMaximum, finite(value));
          break;
        case 'minLength':
          r.minLength = count(value);
          break;
        case 'maxLength':
          r.maxLength = count(value);
          break;
        case 'minItems':
          r.minItems = count(value);
          break;
        case 'maxItems':
          r.maxItems = count(value);
          break;
        case 'required': // above
          break;
        case 'properties':
          if (!isObject(value)) throw new Unsupported();
          for (const [name, sub] of Object.entries(value)) addName(r, name, rule(sub));
          break;
        case 'additionalProperties':
          r.additional = value === false ? null : rule(value);
          break;
        case 'items':
          if (Array.isArray(value)) throw new Unsupported(); // tuples
          r.items = rule(value);
          break;
        case 'allOf':
          r.allOf.push(...schemas(value).map(rule));
          break;
        case 'anyOf':
          r.anyOf.push(schemas(value).map(rule));
          break;
        case '$ref': {
          // ajv v8 applies a $ref's siblings too: the target is one more rule to pass.
          const target = typeof value === 'string' ? resolveLocalRef(schema, value) : undefined;
          if (target === undefined) throw new Unsupported();
          r.allOf.push(rule(target));
          break;
        }
        default:
          throw new Unsupported();
      }
    }
    if (r.enumValues !== undefined) r.enumBytes = r.enumValues.filter((v) => typeof v === 'string').map((v) => Buffer.from(v as string, 'utf8'));
    return r;
  }

  try {
    return { root: rule(schema) };
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

/** The reference of a schema that is a `$ref` and annotations only. */
function bareRef(at: Readonly<Record<string, unknown>>): string | undefined {
  const ref = at.$ref;
  if (typeof ref !== 'string') return undefined;
  for (const key of Object.keys(at)) if (key !== '$ref' && !ANNOTATIONS.has(key)) return undefined;
  return ref;
}

function emptyRule(): Rule {
  return {
    types: T_ANY,
    enumValues: undefined,
    enumBytes: [],
    minimum: -Infinity,
    maximum: Infinity,
    exclusiveMinimum: -Infinity,
    exclusiveMaximum: Infinity,
    minLength: 0,
    maxLength: Infinity,
    names: [],
    nameBytes: [],
    properties: [],
    required: 0,
    additional: undefined,
    items: undefined,
    minItems: 0,
    maxItems: Infinity,
    allOf: [],
    anyOf: [],
  };
}

/**
 * A member name and its `properties` rule, if any; a name already there keeps its rule. A
 * name `Object.prototype` has (`toString`, `__proto__`) does not compile: ajv reads
 * `data[name]` and finds the inherited member where the body has none.
 */
function addName(r: Rule, name: string, sub: Rule | undefined): number {
  if (name in Object.prototype) throw new Unsupported();
  const k = r.names.indexOf(name);
  if (k >= 0) {
    r.properties[k] ??= sub;
    return k;
  }
  r.names.push(name);
  r.nameBytes.push(Buffer.from(name, 'utf8'));
  r.properties.push(sub);
  return r.names.length - 1;
}

function names(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) throw new Unsupported();
  return value as string[];
}

function typeBits(value: unknown): number {
  const names = Array.isArray(value) ? value : [value];
  let bits = 0;
  for (const name of names) {
    const bit = typeof name === 'string' && hasOwn(TYPE_BITS, name) ? TYPE_BITS[name] : undefined;
    if (bit === undefined) throw new Unsupported();
    bits |= bit;
  }
  return bits;
}

function primitives(value: unknown): Primitive[] {
  if (!Array.isArray(value)) throw new Unsupported();
  for (const v of value) if (v !== null && typeof v === 'object') throw new Unsupported(); // deep equality: not here
  return value as Primitive[];
}

function intersect(a: readonly Primitive[] | undefined, b: Primitive[]): Primitive[] {
  return a === undefined ? b : b.filter((v) => a.includes(v));
}

function finite(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Unsupported();
  return value;
}

function count(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Unsupported();
  return value;
}

function schemas(value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw new Unsupported();
  return value;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(value: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}
