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
import { randomText } from '../../helpers/random-json.js';
import { additional, counts, dependencies, misc, names, nearValid, patterns, recursive, strict } from '../../helpers/near-valid-bodies.js';

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
