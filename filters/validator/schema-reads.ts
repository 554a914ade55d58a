/**
 * What a request-body JSON Schema looks at, as {@link JsonReads}: the validator can then judge
 * `ctx.jsonPick(schemaReads(schema))` instead of the whole body and give the same verdict and
 * the same first error, without building the prompt, tool schemas and tool results it never reads.
 *
 * Written for draft-07 as ajv v8 compiles it under the input profile (no coercion, no defaults,
 * no `$data`): with coercion a `type` would read a string's text, with defaults a `default` would
 * write. Conservative by design: a keyword or construct not handled here reads its location whole.
 */
import { TYPE_ONLY, WHOLE, unionReads, type JsonReads } from '../../core/json-pick/reads.js';
import { resolveLocalRef } from '../../core/json-pick/schema-ref.js';

type SchemaObject = Readonly<Record<string, unknown>>;

/** Keywords that never look at the value. */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'default', 'examples', '$schema', 'definitions', '$defs', 'readOnly', 'writeOnly', 'deprecated']);

/** Keywords answered by the value's JSON type alone: numbers are always kept as they are. */
const BY_TYPE = new Set(['type', 'nullable', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);

/** Keywords that measure or match a string's characters. */
const BY_TEXT = new Set(['minLength', 'maxLength', 'pattern', 'format', 'contentEncoding', 'contentMediaType']);

const TEXT: JsonReads = Object.freeze({ text: true });

/** Each member of an object, read by its type at least: what counts or names them all needs. */
const EVERY_MEMBER: JsonReads = Object.freeze({ otherMembers: TYPE_ONLY });

/**
 * The reads that judge a value as `schema` judges it.
 * @example
 * schemaReads({ type: 'object', required: ['model'], properties: { model: { type: 'string', minLength: 1 } } })
 * // { members: { model: { text: true } } }
 */
export function schemaReads(schema: unknown): JsonReads {
  const done = new Map<object, JsonReads>();
  const inProgress = new Set<object>();

  function read(at: unknown): JsonReads {
    if (typeof at === 'boolean') return TYPE_ONLY; // true and false judge without looking
    if (!isObject(at)) return WHOLE;
    // A nested $id moves the base its $refs resolve against; not followed here.
    if (at !== schema && hasOwn(at, '$id')) return WHOLE;
    const known = done.get(at);
    if (known) return known;
    // Recursion ($ref back into a schema being read): reads have no cycles, so all of it there.
    if (inProgress.has(at)) return WHOLE;
    inProgress.add(at);
    let reads = TYPE_ONLY;
    for (const [keyword, value] of Object.entries(at)) {
      reads = unionReads(reads, keywordReads(keyword, value));
      if (reads.whole) break;
    }
    inProgress.delete(at);
    done.set(at, reads);
    return reads;
  }

  function keywordReads(keyword: string, value: unknown): JsonReads {
    if (ANNOTATIONS.has(keyword) || BY_TYPE.has(keyword)) return TYPE_ONLY;
    if (keyword === '$id') return TYPE_ONLY; // only the root's gets here: it names the document
    if (BY_TEXT.has(keyword)) return TEXT;
    switch (keyword) {
      case 'enum':
      case 'const':
        return WHOLE;
      case 'properties':
        return isObject(value) ? { members: membersOf(Object.entries(value).map(([name, sub]) => [name, read(sub)])) } : WHOLE;
      case 'required':
        return isNameList(value) ? { members: membersOf(value.map((name) => [name, TYPE_ONLY])) } : WHOLE;
      case 'additionalProperties':
        // Named members are read with it too (more than needed): which members are "additional"
        // depends on ajv's own matching of `properties` and `patternProperties`.
        return value === true ? TYPE_ONLY : { otherMembers: read(value) };
      case 'patternProperties':
        return isObject(value) ? { otherMembers: unionAll(Object.values(value).map(read)) } : WHOLE;
      case 'propertyNames': // a member's name is always kept, whatever reads its value
      case 'minProperties':
      case 'maxProperties':
        return EVERY_MEMBER;
      case 'dependencies':
        return isObject(value) ? unionAll(Object.entries(value).map(([name, dep]) => dependencyReads(name, dep))) : WHOLE;
      case 'items':
        // A tuple's items are each read with every position's schema: simpler, and still sound.
        return { items: Array.isArray(value) ? unionAll(value.map(read)) : read(value) };
      case 'additionalItems':
      case 'contains':
        return { items: read(value) };
      case 'minItems':
      case 'maxItems':
        return { items: TYPE_ONLY };
      case 'uniqueItems':
        return value === false ? TYPE_ONLY : { items: WHOLE };
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        return Array.isArray(value) ? unionAll(value.map(read)) : WHOLE;
      case 'not':
      case 'if':
      case 'then':
      case 'else':
        return read(value);
      case '$ref': {
        // ajv v8 applies a $ref's siblings too (draft-07 would ignore them): they are read above.
        const target = typeof value === 'string' ? resolveLocalRef(schema, value) : undefined;
        return target === undefined ? WHOLE : read(target);
      }
      default:
        return WHOLE;
    }
  }

  /** `{ a: ['b'] }` asks for b when a is present; `{ a: schema }` applies the schema to the object. */
  function dependencyReads(name: string, dep: unknown): JsonReads {
    const present: JsonReads = { members: membersOf([[name, TYPE_ONLY]]) };
    if (Array.isArray(dep)) return isNameList(dep) ? unionReads(present, { members: membersOf(dep.map((d) => [d, TYPE_ONLY])) }) : WHOLE;
    return unionReads(present, read(dep));
  }

  return read(schema);
}

function unionAll(all: readonly JsonReads[]): JsonReads {
  return all.reduce(unionReads, TYPE_ONLY);
}

/** Members by name, defined rather than assigned: `__proto__` is a member name like any other. */
function membersOf(entries: ReadonlyArray<readonly [string, JsonReads]>): Record<string, JsonReads> {
  const members = Object.create(null) as Record<string, JsonReads>;
  for (const [name, reads] of entries) {
    const value = hasOwn(members, name) ? unionReads(members[name], reads) : reads;
    Object.defineProperty(members, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return members;
}

function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNameList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((name) => typeof name === 'string');
}

function hasOwn(value: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}
