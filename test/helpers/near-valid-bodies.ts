/**
 * Near-valid Anthropic Messages request bodies (well made, then up to three random changes)
 * and JSON Schemas that exercise each keyword on bodies of that shape: for tests that judge
 * a body two ways (the whole body against its pick, ajv against the tape's check).
 */
import { randomText, randomValue } from './random-json.js';

// ---- Near-valid request bodies ------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [name: string]: Json };
export type Rand = () => number;

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
export function nearValid(rand: Rand): unknown {
  const b = body(rand);
  const changes = rand() < 0.3 ? 0 : 1 + upTo(rand, 2);
  for (let i = 0; i < changes; i++) mutate(rand, b);
  return JSON.parse(JSON.stringify(b)); // as the validator sees it
}

// ---- Schemas that exercise each keyword on bodies of this shape ---------------------------

export const strict = {
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
export const names = {
  type: 'object',
  required: ['model'],
  propertyNames: { pattern: '^[a-z_]+$' },
  properties: { messages: { items: { propertyNames: { enum: ['role', 'content'] }, properties: { content: { items: { propertyNames: { maxLength: 10 } } } } } } },
};

export const counts = {
  type: 'object',
  minProperties: 4,
  maxProperties: 7,
  properties: { stop_sequences: { minItems: 2 }, tools: { maxItems: 2 }, messages: { items: { maxProperties: 2, properties: { content: { minItems: 2 } } } } },
};

export const patterns = {
  type: 'object',
  patternProperties: {
    '^max_': { type: 'integer', minimum: 1 },
    '^sys': { type: 'string', minLength: 5 },
    '^mes': { type: 'array', items: { required: ['role'], properties: { role: { enum: ['user', 'assistant'] }, content: { type: ['string', 'array'] } } } },
    _: { not: { type: 'null' } },
    oo: { properties: { type: { enum: ['auto', 'any', 'tool'] } } },
  },
};

export const dependencies = {
  type: 'object',
  dependencies: {
    tools: ['tool_choice'],
    stream: { properties: { max_tokens: { maximum: 1024 } } },
    temperature: { not: { required: ['top_p'] } },
    metadata: { properties: { metadata: { properties: { user_id: { pattern: '^user-[0-4]$' } } }, model: { pattern: 'sonnet' } } },
  },
};

export const additional = {
  type: 'object',
  properties: { model: { type: 'string' }, max_tokens: {}, messages: {} },
  additionalProperties: { minLength: 1, maxLength: 20, properties: { type: { type: 'string', pattern: '^[a-z]' } }, items: { properties: { type: { const: 'text' }, description: { maxLength: 20 } } } },
};

export const recursive = {
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
export const misc = JSON.parse(`{
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
