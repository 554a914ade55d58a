/**
 * schemaReads: what a request schema looks at. The validator will judge
 * `ctx.jsonPick(schemaReads(schema))` instead of the whole body, which is right only if, for
 * every body, the pruned body gets the same verdict and the same first error: checked here on
 * the shipped schema and on schemas built to exercise each keyword, with near-valid bodies.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { ValidateFunction } from 'ajv';
import { compileSchema, INPUT_PROFILE } from '../../../core/config/ajv.js';
import type { JsonReads } from '../../../core/json-pick/reads.js';
import { schemaReads } from '../../../filters/validator/schema-reads.js';
import { resolveSchemaPath } from '../../../filters/validator/schemas.js';
import { pruneByReads } from '../../helpers/json-prune.js';
import { mulberry32 } from '../../helpers/prng.js';
import { randomText, randomValue } from '../../helpers/random-json.js';

const shipped = JSON.parse(readFileSync(resolveSchemaPath('anthropic-messages.schema.json', '.'), 'utf8')) as object;

/** Reads as JSON, to compare with t.same (members are null-prototype objects). */
const plain = (reads: JsonReads): unknown => JSON.parse(JSON.stringify(reads));

/**
 * The first error as ajv reports it, whole (path, keyword, params, message, schemaPath), or
 * 'valid', or what it threw: ajv's deep equality calls a member named `toString` or `valueOf`.
 */
function verdict(validate: ValidateFunction, value: unknown): string {
  try {
    return validate(value) ? 'valid' : JSON.stringify(validate.errors![0]);
  } catch (err) {
    return `threw ${(err as Error).name}: ${(err as Error).message}`;
  }
}

const BLOCK = { members: { type: { text: true }, text: {} } };

t.test('the shipped schema reads the model, roles and block types, and no prompt text', async (t) => {
  t.same(plain(schemaReads(shipped)), {
    members: {
      model: { text: true },
      max_tokens: {},
      messages: { items: { members: { role: { whole: true }, content: { items: BLOCK } } } },
      system: { items: BLOCK },
      stream: {},
      temperature: {},
      top_p: {},
      top_k: {},
      stop_sequences: { items: {} },
      metadata: {},
      tools: { items: {} },
      tool_choice: { members: { type: {} } },
      thinking: { members: { type: {} } },
    },
  });
  const body = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    system: 'You are a careful engineer.',
    messages: [
      { role: 'user', content: 'List the files.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure.' }, { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.ts\nb.ts' }] },
    ],
    tools: [{ name: 'bash', description: 'Runs a command', input_schema: { type: 'object' } }],
    metadata: { user_id: 'u-1' },
    tool_choice: { type: 'auto' },
    future_field: { anything: true },
  };
  t.same(pruneByReads(body, schemaReads(shipped)), {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    system: '',
    messages: [
      { role: 'user', content: '' },
      { role: 'assistant', content: [{ type: 'text', text: '' }, { type: 'tool_use' }] },
      { role: 'user', content: [{ type: 'tool_result' }] },
    ],
    tools: [{}],
    metadata: {},
    tool_choice: { type: '' },
  });
});

t.test('each keyword reads what it judges', async (t) => {
  const X = { type: 'string', minLength: 2 };
  const cases: Array<[string, unknown, unknown]> = [
    ['annotations and number keywords: the type alone', { title: 't', description: 'd', $comment: 'c', default: 1, examples: [1], readOnly: true, type: 'number', minimum: 0, maximum: 9, exclusiveMinimum: -1, multipleOf: 0.5 }, {}],
    ['string keywords: the text', { minLength: 1, maxLength: 3, pattern: '^a' }, { text: true }],
    ['enum: the value whole', { enum: ['a', 1] }, { whole: true }],
    ['const: the value whole', { properties: { a: { const: { b: 1 } } } }, { members: { a: { whole: true } } }],
    ['required: each name, by its type', { required: ['a', 'b'], properties: { a: X } }, { members: { a: { text: true }, b: {} } }],
    ['additionalProperties false: every member', { properties: { a: X }, additionalProperties: false }, { members: { a: { text: true } }, otherMembers: {} }],
    ['additionalProperties as a schema: every member with it', { properties: { a: { type: 'number' } }, additionalProperties: X }, { members: { a: { text: true } }, otherMembers: { text: true } }],
    ['additionalProperties true: nothing', { properties: { a: {} }, additionalProperties: true }, { members: { a: {} } }],
    ['patternProperties: every member with each pattern', { patternProperties: { '^x': X, '^y': { enum: [1] } } }, { otherMembers: { whole: true } }],
    ['propertyNames, minProperties, maxProperties: every name', { propertyNames: X, maxProperties: 3 }, { otherMembers: {} }],
    ['dependencies: names, and schemas on the object', { dependencies: { a: ['b'], c: { required: ['d'] } } }, { members: { a: {}, b: {}, c: {}, d: {} } }],
    ['items: each item', { items: X, minItems: 1 }, { items: { text: true } }],
    ['minItems alone: the length', { minItems: 1 }, { items: {} }],
    ['a tuple: each item with every position', { items: [X, { type: 'number' }], additionalItems: false }, { items: { text: true } }],
    ['contains: each item', { contains: X }, { items: { text: true } }],
    ['uniqueItems: the items whole', { uniqueItems: true }, { items: { whole: true } }],
    ['anyOf, oneOf, allOf: every branch', { anyOf: [X, { type: 'array', items: {} }], oneOf: [{ properties: { a: X } }], allOf: [true] }, { text: true, items: {}, members: { a: { text: true } } }],
    ['not, if, then, else: every branch', { not: { items: X }, if: { properties: { a: { const: 1 } } }, then: { required: ['b'] }, else: { maxLength: 2 } }, { items: { text: true }, members: { a: { whole: true }, b: {} }, text: true }],
    ['boolean schemas: the type alone', { properties: { a: true, b: false } }, { members: { a: {}, b: {} } }],
    ['$ref into definitions and $defs, with ~1, ~0 and %20', { properties: { a: { $ref: '#/definitions/x~1y' }, b: { $ref: '#/$defs/p~0q%20r' } }, definitions: { 'x/y': X }, $defs: { 'p~q r': { enum: [1] } } }, { members: { a: { text: true }, b: { whole: true } } }],
    ['$ref siblings are applied too', { properties: { a: { $ref: '#/definitions/n', minLength: 1 } }, definitions: { n: { type: 'string' } } }, { members: { a: { text: true } } }],
    ['recursion: the whole value where it recurs', { type: 'object', properties: { name: X, child: { $ref: '#' } } }, { members: { name: { text: true }, child: { whole: true } } }],
    ['recursion through definitions', { $ref: '#/definitions/n', definitions: { n: { properties: { kids: { items: { $ref: '#/definitions/n' } } } } } }, { members: { kids: { items: { whole: true } } } }],
    ['a remote or anchor $ref: whole', { properties: { a: { $ref: 'https://example.test/s.json' }, b: { $ref: '#anchor' }, c: { $ref: '#/definitions/missing' } } }, { members: { a: { whole: true }, b: { whole: true }, c: { whole: true } } }],
    ['a nested $id (it moves the $ref base): whole', { properties: { a: { $id: 'https://example.test/a', type: 'string' } } }, { members: { a: { whole: true } } }],
    ['a keyword not handled (here, one ajv ignores): whole', { properties: { a: { dependentRequired: { b: ['c'] } }, b: { 'x-vendor': 1 } } }, { members: { a: { whole: true }, b: { whole: true } } }],
    ['not a schema: whole', 42, { whole: true }],
    ['the root $id only names the document', { $id: 'https://example.test/s.json', $schema: 'http://json-schema.org/draft-07/schema#', required: ['a'] }, { members: { a: {} } }],
  ];
  for (const [name, schema, expected] of cases) t.same(plain(schemaReads(schema)), expected, name);
});

t.test('a member named __proto__ is a name like any other', async (t) => {
  const schema = JSON.parse('{"required":["__proto__"],"properties":{"__proto__":{"minLength":1}}}') as object;
  const reads = schemaReads(schema);
  t.same(Object.keys(reads.members ?? {}), ['__proto__']);
  t.same(reads.members?.['__proto__'], { text: true });
  const pruned = pruneByReads(JSON.parse('{"a":1,"__proto__":"x","b":[2]}'), reads) as object;
  t.equal(Object.getPrototypeOf(pruned), Object.prototype, 'an ordinary object, as JSON.parse makes');
  t.same(Object.getOwnPropertyDescriptor(pruned, '__proto__')?.value, 'x', 'kept as data');
  t.same(Object.keys(pruned), ['__proto__']);
});

t.test('pruneByReads keeps member order and only what is read', async (t) => {
  const value = { b: 'text', a: [1, 'x', { c: null }], z: { y: true }, n: -0.5 };
  t.same(Object.keys(pruneByReads(value, { otherMembers: {} }) as object), ['b', 'a', 'z', 'n']);
  t.same(pruneByReads(value, { members: { a: { items: { text: true, members: { c: {} } } }, z: {} }, otherMembers: {} }), { b: '', a: [1, 'x', { c: null }], z: {}, n: -0.5 });
  t.same(pruneByReads(value, { members: { z: { whole: true } } }), { z: { y: true } });
});

t.test("ajv's quirks with inherited names hold for pruned objects too", async (t) => {
  // ajv looks up `properties` names on the object, prototype included: `{}` has a toString.
  const inherited = { properties: { toString: { type: 'string' } } };
  const validate = compileSchema(inherited, INPUT_PROFILE);
  t.equal(verdict(validate, {}), verdict(validate, pruneByReads({}, schemaReads(inherited))));
  t.match(verdict(validate, {}), /"instancePath":"\/toString"/, 'fails on the inherited function');
  // ajv skips a `properties` entry named __proto__, so an own __proto__ is "additional".
  const proto = JSON.parse('{"properties":{"__proto__":{}},"additionalProperties":false}') as object;
  const strictProto = compileSchema(proto, INPUT_PROFILE);
  const body = JSON.parse('{"__proto__":{"a":1}}') as unknown;
  t.match(verdict(strictProto, body), /"additionalProperty":"__proto__"/);
  t.equal(verdict(strictProto, pruneByReads(body, schemaReads(proto))), verdict(strictProto, body));
  // ajv's deep equality (enum, const, uniqueItems) calls a member named toString or valueOf.
  const choice = { properties: { tool_choice: { enum: [{ type: 'auto' }, { type: 'any' }] } } };
  const validateChoice = compileSchema(choice, INPUT_PROFILE);
  const odd = JSON.parse('{"tool_choice":{"type":"auto","toString":1},"messages":[]}') as unknown;
  t.equal(verdict(validateChoice, odd), 'threw TypeError: a.toString is not a function');
  t.equal(verdict(validateChoice, pruneByReads(odd, schemaReads(choice))), verdict(validateChoice, odd), 'the pruned body throws alike');
});

// ---- Near-valid request bodies ------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };
type Rand = () => number;

const pick = <T>(rand: Rand, from: readonly T[]): T => from[Math.floor(rand() * from.length)];
const upTo = (rand: Rand, n: number): number => Math.floor(rand() * (n + 1));

/** Words the schemas care about (roles, block types, names), some that break them, and random text. */
const WORDS = ['user', 'assistant', 'text', 'image', 'tool_use', 'tool_result', 'thinking', 'auto', 'any', 'tool', 'enabled', 'claude-sonnet-4-5', 'bash', 'user-1', '', 'x', 'User', 'toolu_9'];
const word = (rand: Rand): string => (rand() < 0.7 ? pick(rand, WORDS) : randomText(rand, upTo(rand, 8)));
const prose = (rand: Rand): string => (rand() < 0.1 ? '' : randomText(rand, 1 + upTo(rand, 30)));

/** Names for extra members: known ones in the wrong place, odd ones, inherited and __proto__. */
const NAMES = ['type', 'text', 'role', 'content', 'name', 'model', 'max_tokens', 'max_x', 'top_z', 'input', 'user_id', 'budget_tokens', 'x-extra', '__proto__', 'toString', 'valueOf', 'constructor', '$id', ''];

/** A value of some other type, new each time (later mutations may change it). */
const junk = (rand: Rand): Json => (rand() < 0.6 ? (JSON.parse(pick(rand, ['null', '0', '-1', '1.5', '1e21', 'true', '""', '"x"', '"user"', '[]', '[{}]', '{}', '{"type":""}', '{"type":"text"}', '{"type":"auto","toString":1}'])) as Json) : (randomValue(rand, 2) as Json));

function block(rand: Rand, depth: number): Json {
  switch (pick(rand, ['text', 'text', 'image', 'tool_use', 'tool_result', 'thinking'])) {
    case 'text':
      return { type: 'text', text: prose(rand) };
    case 'image':
      return { type: 'image', source: { type: 'base64', media_type: pick(rand, ['image/png', 'image/jpeg']), data: 'iVBORw0KGgo=' } };
    case 'tool_use':
      return { type: 'tool_use', id: `toolu_${upTo(rand, 99)}`, name: pick(rand, ['bash', 'edit']), input: { command: prose(rand) } };
    case 'tool_result':
      return { type: 'tool_result', tool_use_id: `toolu_${upTo(rand, 99)}`, content: depth < 2 && rand() < 0.5 ? blocks(rand, depth + 1) : prose(rand), ...(rand() < 0.3 ? { is_error: rand() < 0.5 } : {}) };
    default:
      return { type: 'thinking', thinking: prose(rand), signature: 'c2ln' };
  }
}

const blocks = (rand: Rand, depth: number): Json[] => Array.from({ length: 1 + upTo(rand, 2) }, () => block(rand, depth));

function body(rand: Rand): { [name: string]: Json } {
  const b: { [name: string]: Json } = {
    model: pick(rand, ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1']),
    max_tokens: pick(rand, [1, 256, 1024, 4096]),
    messages: Array.from({ length: 1 + upTo(rand, 3) }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: rand() < 0.4 ? prose(rand) : blocks(rand, 0) })),
  };
  if (rand() < 0.4) b.system = rand() < 0.5 ? prose(rand) : [{ type: 'text', text: prose(rand) }];
  if (rand() < 0.3) b.stream = rand() < 0.5;
  if (rand() < 0.3) b.temperature = pick(rand, [0, 0.5, 1]);
  if (rand() < 0.2) b.top_p = 0.9;
  if (rand() < 0.2) b.top_k = 40;
  if (rand() < 0.2) b.stop_sequences = pick(rand, [['\n\nHuman:', 'END'], ['END'], ['END', 'END']]);
  if (rand() < 0.3) b.metadata = { user_id: `user-${upTo(rand, 9)}` };
  if (rand() < 0.4) b.tools = Array.from({ length: 1 + upTo(rand, 2) }, () => ({ name: pick(rand, ['bash', 'edit']), description: prose(rand), input_schema: { type: 'object', properties: { command: { type: 'string' } } } }));
  if (rand() < 0.3) b.tool_choice = pick<Json>(rand, [{ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 'bash' }, { type: 'tool' }, { type: 'auto', name: 'bash' }]);
  if (rand() < 0.2) b.thinking = { type: 'enabled', budget_tokens: pick(rand, [1024, 2048]) };
  return b;
}

type Container = Json[] | { [name: string]: Json };
const isContainer = (v: Json): v is Container => typeof v === 'object' && v !== null;

/** Defined, not assigned: `__proto__` stays a member, as JSON.parse makes it. */
function put(c: Container, key: string | number, value: Json): void {
  Object.defineProperty(c, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every container in `value` and, for each, its keys: where a mutation can land. */
function containers(value: Json, out: Container[] = []): Container[] {
  if (!isContainer(value)) return out;
  out.push(value);
  for (const v of Object.values(value)) containers(v, out);
  return out;
}

/** One random change: a member or item removed, a value of the wrong type or word, junk added, an array emptied. */
function mutate(rand: Rand, root: Json): void {
  const c = pick(rand, containers(root));
  const keys = Object.keys(c);
  const key = keys.length ? pick(rand, keys) : undefined;
  const op = rand();
  if (key !== undefined && op < 0.25) {
    if (Array.isArray(c)) c.splice(Number(key), 1);
    else delete c[key];
  } else if (key !== undefined && op < 0.5) {
    put(c, Array.isArray(c) ? Number(key) : key, junk(rand));
  } else if (key !== undefined && op < 0.7) {
    put(c, Array.isArray(c) ? Number(key) : key, word(rand));
  } else if (Array.isArray(c)) {
    if (rand() < 0.5) c.length = 0;
    else c.push(rand() < 0.5 ? junk(rand) : block(rand, 1));
  } else {
    put(c, pick(rand, NAMES), junk(rand));
  }
}

/** A body as a client sends it: mostly well made, then up to three random changes. */
function nearValid(rand: Rand): unknown {
  const b = body(rand);
  const changes = rand() < 0.3 ? 0 : 1 + upTo(rand, 2);
  for (let i = 0; i < changes; i++) mutate(rand, b);
  return JSON.parse(JSON.stringify(b)); // as the validator sees it
}

// ---- Schemas that exercise each keyword on bodies of this shape ---------------------------

const strict = {
  type: 'object',
  required: ['model', 'messages', 'max_tokens'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', pattern: '^claude-[a-z0-9.-]+$', maxLength: 17 },
    max_tokens: { type: 'integer', minimum: 1, maximum: 2048 },
    messages: { type: 'array', minItems: 1, maxItems: 3, items: { $ref: '#/definitions/message' } },
    system: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { $ref: '#/definitions/block' } }] },
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 1 },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    stop_sequences: { type: 'array', maxItems: 4, uniqueItems: true, items: { type: 'string', minLength: 1 } },
    metadata: { type: 'object', additionalProperties: false, properties: { user_id: { type: 'string', maxLength: 6 } } },
    tools: { type: 'array', items: { $ref: '#/definitions/tool' } },
    tool_choice: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['auto', 'any', 'tool', 'none'] }, name: { type: 'string' } },
      if: { properties: { type: { const: 'tool' } } },
      then: { required: ['name'] },
      else: { not: { required: ['name'] } },
    },
    thinking: { type: 'object', required: ['type'], allOf: [{ properties: { type: { const: 'enabled' } } }, { properties: { budget_tokens: { type: 'integer', minimum: 1024 } } }] },
  },
  definitions: {
    message: {
      type: 'object',
      required: ['role', 'content'],
      additionalProperties: false,
      properties: { role: { enum: ['user', 'assistant'] }, content: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { $ref: '#/definitions/block' } }] } },
    },
    block: {
      type: 'object',
      required: ['type'],
      oneOf: [
        { required: ['text'], properties: { type: { const: 'text' }, text: { type: 'string' } } },
        { required: ['source'], properties: { type: { const: 'image' }, source: { type: 'object', required: ['data'], properties: { type: { const: 'base64' }, media_type: { enum: ['image/png', 'image/jpeg'] }, data: { type: 'string', pattern: '^[A-Za-z0-9+/=]*$' } } } } },
        { required: ['id', 'name', 'input'], properties: { type: { const: 'tool_use' }, id: { type: 'string', pattern: '^toolu_' }, input: { type: 'object' } } },
        // Recursive: a tool result holds blocks.
        { required: ['tool_use_id'], properties: { type: { const: 'tool_result' }, content: { anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/definitions/block' } }] }, is_error: { type: 'boolean' } } },
        { required: ['thinking'], properties: { type: { const: 'thinking' }, thinking: { type: 'string' } } },
      ],
    },
    tool: { type: 'object', required: ['name', 'input_schema'], properties: { name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' }, input_schema: { type: 'object', required: ['type'], properties: { type: { const: 'object' } } } } },
  },
};

// One schema per object keyword, so that each one alone decides what must be kept.
const names = {
  type: 'object',
  required: ['model'],
  propertyNames: { pattern: '^[a-z_]+$' },
  properties: { messages: { items: { propertyNames: { enum: ['role', 'content'] }, properties: { content: { items: { propertyNames: { maxLength: 10 } } } } } } },
};

const counts = {
  type: 'object',
  minProperties: 4,
  maxProperties: 7,
  properties: { stop_sequences: { minItems: 2 }, tools: { maxItems: 2 }, messages: { items: { maxProperties: 2, properties: { content: { minItems: 2 } } } } },
};

const patterns = {
  type: 'object',
  patternProperties: {
    '^max_': { type: 'integer', minimum: 1 },
    '^sys': { type: 'string', minLength: 5 },
    '^mes': { type: 'array', items: { required: ['role'], properties: { role: { enum: ['user', 'assistant'] }, content: { type: ['string', 'array'] } } } },
    _: { not: { type: 'null' } },
    oo: { properties: { type: { enum: ['auto', 'any', 'tool'] } } },
  },
};

const dependencies = {
  type: 'object',
  dependencies: {
    tools: ['tool_choice'],
    stream: { properties: { max_tokens: { maximum: 1024 } } },
    temperature: { not: { required: ['top_p'] } },
    metadata: { properties: { metadata: { properties: { user_id: { pattern: '^user-[0-4]$' } } }, model: { pattern: 'sonnet' } } },
  },
};

const additional = {
  type: 'object',
  properties: { model: { type: 'string' }, max_tokens: {}, messages: {} },
  additionalProperties: { minLength: 1, maxLength: 20, properties: { type: { type: 'string', pattern: '^[a-z]' } }, items: { properties: { type: { const: 'text' }, description: { maxLength: 20 } } } },
};

const recursive = {
  $id: 'https://example.test/recursive.schema.json',
  type: 'object',
  required: ['messages'],
  properties: {
    messages: { type: 'array', items: { $ref: '#/definitions/message' } },
    system: { $ref: '#/definitions/con~1tent' },
    metadata: { $ref: '#', maxProperties: 1 },
    tools: { type: 'array', items: { $ref: '#/$defs/tool%20def' } },
    stream: true,
    thinking: false,
  },
  definitions: {
    message: { type: 'object', required: ['role'], properties: { role: { type: 'string', minLength: 4 }, content: { $ref: '#/definitions/con~1tent' } } },
    'con/tent': { anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/definitions/block~0node' } }] },
    'block~node': { type: 'object', required: ['type'], properties: { type: { type: 'string', minLength: 1 }, content: { $ref: '#/definitions/con~1tent' } } },
  },
  $defs: { 'tool def': { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 4 } } } },
};

// JSON text: a `__proto__` key in an object literal would set the prototype instead.
const misc = JSON.parse(`{
  "type": "object",
  "properties": {
    "messages": { "type": "array", "items": [{ "properties": { "role": { "const": "user" } } }], "additionalItems": { "type": "object", "required": ["content"] },
                  "contains": { "required": ["content"], "properties": { "content": { "type": "string", "minLength": 3 } } } },
    "stop_sequences": { "uniqueItems": true },
    "tool_choice": { "enum": [{ "type": "auto" }, { "type": "any" }, { "type": "tool", "name": "bash" }] },
    "thinking": { "const": { "type": "enabled", "budget_tokens": 1024 } },
    "metadata": { "allOf": [{ "type": "object" }, { "not": { "required": ["user_id", "type"] } }], "properties": { "__proto__": { "type": "string" }, "user_id": {} }, "additionalProperties": false },
    "__proto__": { "type": "number" },
    "model": { "$ref": "#/definitions/model", "maxLength": 17 },
    "tools": { "$ref": "#/definitions/list", "items": { "type": "object", "properties": { "name": { "enum": ["bash", null] } } } }
  },
  "definitions": { "model": { "type": "string", "pattern": "^claude" }, "list": { "type": "array" } }
}`) as object;

const CASES_PER_SCHEMA = 1000;

t.test('sound: a pruned body gets the same verdict and first error as the whole body', async (t) => {
  const keywords = new Set<string>();
  for (const [index, [name, schema]] of Object.entries({ shipped, strict, names, counts, patterns, dependencies, additional, recursive, misc }).entries()) {
    const validate = compileSchema(schema, INPUT_PROFILE);
    const reads = schemaReads(schema);
    const rand = mulberry32(0x5eed + index); // seeded per schema: a failing case comes back every run
    const counts = { valid: 0, invalid: 0, threw: 0 };
    const differ: Array<{ value: unknown; whole: string; pruned: string }> = [];
    for (let i = 0; i < CASES_PER_SCHEMA; i++) {
      const value = nearValid(rand);
      const whole = verdict(validate, value);
      // The first error's keyword and the branches' that led to it; ajv (allErrors off) names no
      // `if` error, only the failing then/else's, which the schema path shows.
      if (whole !== 'valid' && !whole.startsWith('threw')) for (const e of validate.errors!) [e.keyword, ...(e.schemaPath.match(/\/(then|else)\//) ?? []).slice(1)].forEach((k) => keywords.add(k));
      const pruned = verdict(validate, pruneByReads(value, reads));
      if (whole === 'valid') counts.valid++;
      else if (whole.startsWith('threw')) counts.threw++;
      else counts.invalid++;
      if (whole !== pruned && differ.length < 3) differ.push({ value, whole, pruned });
    }
    t.same(differ, [], `${name}: no case judged differently`);
    t.ok(counts.valid >= CASES_PER_SCHEMA / 10 && counts.invalid >= CASES_PER_SCHEMA / 10, `${name}: both verdicts often (${counts.valid} valid, ${counts.invalid} invalid, ${counts.threw} threw)`);
  }
  const expected = ['required', 'type', 'enum', 'const', 'additionalProperties', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'anyOf', 'oneOf', 'not', 'then', 'else', 'false schema', 'propertyNames', 'dependencies', 'minProperties', 'maxProperties', 'contains', 'uniqueItems', 'minimum', 'maximum'];
  t.same(expected.filter((k) => !keywords.has(k)), [], `every keyword failed a body at least once (seen: ${[...keywords].sort().join(', ')})`);
});

t.test('the shipped schema prunes a coding-agent turn to a small part of it', async (t) => {
  const rand = mulberry32(7);
  const big = (n: number): string => randomText(rand, n);
  const turn = {
    model: 'claude-sonnet-4-5',
    max_tokens: 4096,
    system: big(2000),
    tools: Array.from({ length: 40 }, (_, i) => ({ name: `tool_${i}`, description: big(300), input_schema: { type: 'object', properties: { path: { type: 'string', description: big(100) } } } })),
    messages: Array.from({ length: 20 }, (_, i) =>
      i % 2
        ? { role: 'assistant', content: [{ type: 'text', text: big(200) }, { type: 'tool_use', id: `toolu_${i}`, name: 'tool_1', input: { path: big(50) } }] }
        : { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i - 1}`, content: big(3000) }] },
    ),
  };
  const reads = schemaReads(shipped);
  const pruned = pruneByReads(turn, reads);
  const size = (v: unknown): number => JSON.stringify(v).length;
  t.ok(size(pruned) * 50 < size(turn), `pruned to ${size(pruned)} of ${size(turn)} characters`);
  const validate = compileSchema(shipped, INPUT_PROFILE);
  t.equal(verdict(validate, pruned), 'valid');
  t.equal(verdict(validate, pruned), verdict(validate, turn));
});
