/**
 * A JSON Schema judged on a body's tape, without building the body: `ctx.jsonCheck(check)`.
 * A coding agent's turn holds hundreds of messages and blocks, and a validator that picks
 * them as objects to hand to ajv spent more on the objects than on judging them.
 *
 * The verdict is ajv v8's under the input profile (draft-07, no coercion, no defaults) for
 * the keywords compiled here; a schema with any other keyword (or a
 * `$ref` outside the document, a nested `$id`) does not compile, and its reader judges
 * the body another way. Only "valid" is acted on: an invalid body is judged again by ajv
 * for its error message.
 */
import { resolveLocalRef } from './schema-ref.js';
import { ARRAY, ESCAPED_STRING, FALSE, indexOfBytes, NULL, NUMBER, OBJECT, STRING, TRUE, type Tape } from './tape.js';

/** A schema compiled for {@link checkTape}; opaque to readers. */
export interface JsonCheck {
  readonly root: Rule;
}

/** JSON types as bits; `number` and `integer` are checked on the number's value. */
const T_OBJECT = 1;
const T_ARRAY = 2;
const T_STRING = 4;
const T_NUMBER = 8;
const T_INTEGER = 16;
const T_BOOLEAN = 32;
const T_NULL = 64;
const T_ANY = 127;
const TYPE_BITS: Readonly<Record<string, number>> = { object: T_OBJECT, array: T_ARRAY, string: T_STRING, number: T_NUMBER, integer: T_INTEGER, boolean: T_BOOLEAN, null: T_NULL };

type Primitive = string | number | boolean | null;

/** One schema object, compiled. Cycles (`$ref` back up) share the rule. */
interface Rule {
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
const MAX_REQUIRED = 31;

/** Past this depth of schema recursion over the body the check says "not sure". */
const MAX_DEPTH = 128;

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

/** Whether the body on `tape` satisfies the schema `check` was compiled from. */
export function checkTape(tape: Tape, check: JsonCheck): boolean {
  return new TapeChecker(tape).passes(0, check.root, 0);
}

class TapeChecker {
  private readonly bytes: Buffer;
  private readonly entries: Int32Array;

  constructor(tape: Tape) {
    this.bytes = tape.bytes;
    this.entries = tape.entries;
  }

  passes(i: number, r: Rule, depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const kind = this.entries[2 * i] & 7;
    switch (kind) {
      case OBJECT:
        // An enum here holds primitives only: never an object or an array.
        if ((r.types & T_OBJECT) === 0 || r.enumValues !== undefined) return false;
        if (!this.object(i, r, depth)) return false;
        break;
      case ARRAY:
        if ((r.types & T_ARRAY) === 0 || r.enumValues !== undefined) return false;
        if (!this.array(i, r, depth)) return false;
        break;
      case STRING:
      case ESCAPED_STRING:
        if ((r.types & T_STRING) === 0 || !this.string(i, kind, r)) return false;
        break;
      case NUMBER:
        if (!this.number(i, r)) return false;
        break;
      case TRUE:
      case FALSE:
        if ((r.types & T_BOOLEAN) === 0 || (r.enumValues !== undefined && !r.enumValues.includes(kind === TRUE))) return false;
        break;
      default:
        if ((r.types & T_NULL) === 0 || (r.enumValues !== undefined && !r.enumValues.includes(null))) return false;
    }
    for (let k = 0; k < r.allOf.length; k++) if (!this.passes(i, r.allOf[k], depth + 1)) return false;
    for (let k = 0; k < r.anyOf.length; k++) if (!this.any(i, r.anyOf[k], depth + 1)) return false;
    return true;
  }

  private any(i: number, rules: Rule[], depth: number): boolean {
    for (let k = 0; k < rules.length; k++) if (this.passes(i, rules[k], depth)) return true;
    return false;
  }

  private object(i: number, r: Rule, depth: number): boolean {
    if (r.names.length === 0 && r.additional === undefined) return true; // nothing asked of the members
    const end = this.entries[2 * i + 1];
    let seen = 0;
    for (let name = i + 1; name < end; ) {
      const value = name + 1;
      const k = r.names.length === 0 ? -1 : this.memberIndex(name, r);
      const property = k >= 0 ? r.properties[k] : undefined;
      if (k >= 0 && k < MAX_REQUIRED) seen |= 1 << k; // required names have the first bits
      if (property !== undefined) {
        if (!this.passes(value, property, depth + 1)) return false;
      } else if (r.additional === null) {
        return false;
      } else if (r.additional !== undefined && !this.passes(value, r.additional, depth + 1)) {
        return false;
      }
      name = this.next(value);
    }
    return (seen & r.required) === r.required;
  }

  private array(i: number, r: Rule, depth: number): boolean {
    if (r.items === undefined && r.minItems === 0 && r.maxItems === Infinity) return true;
    const end = this.entries[2 * i + 1];
    let length = 0;
    for (let item = i + 1; item < end; item = this.next(item)) {
      length++;
      if (r.items !== undefined && !this.passes(item, r.items, depth + 1)) return false;
    }
    return length >= r.minItems && length <= r.maxItems;
  }

  private string(i: number, kind: number, r: Rule): boolean {
    if (kind === ESCAPED_STRING) {
      const text = this.escaped(i);
      if (r.enumValues !== undefined && !r.enumValues.includes(text)) return false;
      return r.minLength === 0 && r.maxLength === Infinity ? true : within(codePoints(text), r);
    }
    const from = (this.entries[2 * i] >> 3) + 1;
    const to = this.entries[2 * i + 1];
    if (r.enumValues !== undefined && indexOfBytes(this.bytes, from, to, r.enumBytes) < 0) return false;
    if (r.maxLength === Infinity && to - from >= 4 * r.minLength) return true; // no character takes more than 4 bytes
    // Characters as ajv counts them (a surrogate pair is one): UTF-8 sequences, by their lead bytes.
    let length = 0;
    const bytes = this.bytes;
    for (let at = from; at < to; at++) if ((bytes[at] & 0xc0) !== 0x80) length++;
    return within(length, r);
  }

  private number(i: number, r: Rule): boolean {
    const from = this.entries[2 * i] >> 3;
    const value = Number(this.bytes.toString('latin1', from, this.entries[2 * i + 1]));
    // A number JSON.parse reads as an infinity (1e400): not sure, left to ajv.
    if (!Number.isFinite(value)) return false;
    if ((r.types & T_NUMBER) === 0 && ((r.types & T_INTEGER) === 0 || value % 1 !== 0)) return false;
    if (r.enumValues !== undefined && !r.enumValues.includes(value)) return false;
    return value >= r.minimum && value <= r.maximum && value > r.exclusiveMinimum && value < r.exclusiveMaximum;
  }

  /** The entry after value i and everything inside it. */
  private next(i: number): number {
    return (this.entries[2 * i] & 7) <= ARRAY ? this.entries[2 * i + 1] : i + 1;
  }

  /** Which of the rule's property names the member name at entry i is, or -1. */
  private memberIndex(i: number, r: Rule): number {
    if ((this.entries[2 * i] & 7) === ESCAPED_STRING) return r.names.indexOf(this.escaped(i));
    return indexOfBytes(this.bytes, (this.entries[2 * i] >> 3) + 1, this.entries[2 * i + 1], r.nameBytes);
  }

  /** A string holding escapes, as JSON.parse reads it. */
  private escaped(i: number): string {
    return JSON.parse(this.bytes.toString('utf8', this.entries[2 * i] >> 3, this.entries[2 * i + 1] + 1)) as string;
  }
}

function within(length: number, r: Rule): boolean {
  return length >= r.minLength && length <= r.maxLength;
}

/** Characters as ajv's `ucs2length` counts them: a surrogate pair is one. */
function codePoints(text: string): number {
  let length = 0;
  for (let at = 0; at < text.length; at++, length++) {
    const c = text.charCodeAt(at);
    if (c >= 0xd800 && c <= 0xdbff && at + 1 < text.length && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00) at++;
  }
  return length;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(value: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}
