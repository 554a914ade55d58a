/**
 * Precompiled validators: the build's standalone code for the shipped request-body schema
 * behaves exactly as ajv compiling it at run time with the input profile (no coercion, no
 * defaults, the first error), and a schema without precompiled code is still compiled.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import vm from 'node:vm';
import path from 'node:path';
import { Ajv } from 'ajv';
import type * as AjvModule from '../../core/config/ajv.js';
import { commonJsScript } from '../../core/deps/commonjs-wrapper.js';
import { repoRoot } from '../helpers/process.js';

// The built module: its precompiled/ directory is the one the build wrote.
const built = (await import(path.join(repoRoot, 'dist/core/config/ajv.js'))) as typeof AjvModule;
const { AJV_OPTIONS, INPUT_PROFILE, PRECOMPILED_DIR, compileSchema, profiled, schemaKey } = built;
const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas/anthropic-messages.schema.json'), 'utf8')) as object;

const bodies: Array<[string, unknown]> = [
  ['valid', { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }],
  ['valid, blocks and unknown fields', { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], future_field: true }],
  ['missing model', { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }],
  ['max_tokens as a string (never coerced)', { model: 'm', max_tokens: '10', messages: [{ role: 'user', content: 'hi' }] }],
  ['bad role', { model: 'm', max_tokens: 10, messages: [{ role: 'system', content: 'hi' }] }],
  ['empty messages', { model: 'm', max_tokens: 10, messages: [] }],
  ['not an object', [1, 2]],
];

t.test('the shipped request schema has precompiled code', async (t) => {
  t.ok(existsSync(path.join(PRECOMPILED_DIR, `${schemaKey(schema, INPUT_PROFILE)}.cjs`)), 'written by npm run build');
});

t.test('precompiled and run-time compiled validators agree, and leave the body as sent', async (t) => {
  const precompiled = compileSchema(schema, INPUT_PROFILE);
  const runtime = new Ajv({ ...INPUT_PROFILE.options }).compile(profiled(schema, INPUT_PROFILE));
  t.not(precompiled, runtime);
  for (const [name, body] of bodies) {
    const a = structuredClone(body);
    const b = structuredClone(body);
    t.equal(precompiled(a), runtime(b), `${name}: same verdict`);
    t.same(precompiled.errors ?? null, runtime.errors ?? null, `${name}: same errors`);
    t.same(a, body, `${name}: body unchanged`);
  }
});

t.test('a schema without precompiled code is compiled at run time', async (t) => {
  const own = { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } };
  t.notOk(existsSync(path.join(PRECOMPILED_DIR, `${schemaKey(own, INPUT_PROFILE)}.cjs`)));
  const validate = compileSchema(own, INPUT_PROFILE);
  t.ok(validate({ n: 1 }));
  t.notOk(validate({ n: '1' }), 'the input profile does not coerce');
  t.equal(compileSchema(own, INPUT_PROFILE), validate, 'cached per schema object');
  t.ok(compileSchema(own)({ n: '1' }), 'the config profile coerces');
});

t.test('each precompiled validator carries the ajv runtime it calls: loading one requires no package', async (t) => {
  const files = readdirSync(PRECOMPILED_DIR).filter((f) => f.endsWith('.cjs'));
  t.ok(files.length > 10, 'the config schema and every built-in plugin schema');
  for (const file of files) {
    const required: string[] = [];
    const module = { exports: {} as unknown };
    // Compiled and called as requireCached does (the build's files wrap themselves).
    const wrapper = vm.runInThisContext(commonJsScript(readFileSync(path.join(PRECOMPILED_DIR, file), 'utf8'))) as (e: unknown, r: (id: string) => unknown, m: { exports: unknown }) => void;
    wrapper.call(module.exports, module.exports, (id) => {
      required.push(id);
      throw new Error(`required ${id}`);
    }, module);
    t.same(required, [], `${file}: nothing required`);
    t.type(module.exports, 'function', `${file}: exports its validator`);
  }
});

t.test("the config validator's bundled deep-equal (uniqueItems) and string length (minLength) agree with ajv at run time", async (t) => {
  const configSchema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas/config.schema.json'), 'utf8')) as object;
  const precompiled = compileSchema(configSchema);
  t.ok(existsSync(path.join(PRECOMPILED_DIR, `${schemaKey(configSchema)}.cjs`)), 'the config schema is precompiled');
  const runtime = new Ajv({ ...AJV_OPTIONS }).compile(configSchema);
  const configs: Array<[string, unknown]> = [
    ['endpoints listed once each', { server: { admin: { port: 9000, endpoints: ['metrics', 'health'] } } }],
    ['an endpoint listed twice', { server: { admin: { port: 9000, endpoints: ['metrics', 'metrics'] } } }],
    ['a workspace with a user', { workspaces: { 'ws-1': { user: 'ada' } } }],
    ['a workspace whose user is empty', { workspaces: { 'ws-1': { user: '' } } }],
    ['not a mapping', 'text'],
  ];
  for (const [name, config] of configs) {
    const a = structuredClone(config);
    const b = structuredClone(config);
    t.equal(precompiled(a), runtime(b), `${name}: same verdict`);
    t.same(precompiled.errors ?? null, runtime.errors ?? null, `${name}: same errors`);
  }
  t.notOk(precompiled({ server: { admin: { port: 9000, endpoints: ['metrics', 'metrics'] } } }), 'a duplicate is refused');
  t.match(precompiled.errors, [{ keyword: 'uniqueItems' }]);
  t.notOk(precompiled({ workspaces: { 'ws-1': { user: '' } } }), 'an empty user is refused');
  t.match(precompiled.errors, [{ keyword: 'minLength' }]);
});
