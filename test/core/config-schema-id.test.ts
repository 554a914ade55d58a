/**
 * Plugin config schemas share one ajv. Two schemas with the same `$id` — a plugin's new
 * version rolled out under a new file name, or two copies of one plugin — both compile,
 * each validating by its own rules, and a reload between them works back and forth.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { compileSchema } from '../../core/config/ajv.js';
import { startGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('two schemas with one root $id compile, each by its own rules', async (t) => {
  const id = 'https://example.test/schema-id/stamp.schema.json';
  const v1 = { $id: id, type: 'object', properties: { value: { $ref: '#/definitions/value' } }, definitions: { value: { type: 'string', maxLength: 3 } } };
  const v2 = { $id: id, type: 'object', properties: { value: { $ref: '#/definitions/value' } }, definitions: { value: { type: 'string', minLength: 5 } } };
  const one = compileSchema(v1);
  const two = compileSchema(v2);
  t.equal(one({ value: 'abc' }), true);
  t.equal(one({ value: 'abcdef' }), false);
  t.equal(two({ value: 'abc' }), false);
  t.equal(two({ value: 'abcdef' }), true);
  t.equal(compileSchema(v1), one, 'the same schema object is compiled once');
  t.equal(compileSchema(structuredClone(v1))({ value: 'abcd' }), false, 'a copy of it compiles too');
});

t.test('nested $ids, and refs to them, in two schemas of one root $id', async (t) => {
  const schema = (type: string) => ({ $id: 'https://example.test/schema-id/nested.json', type: 'object', properties: { a: { $ref: 'defs.json' }, b: { $ref: 'https://example.test/abs-defs' } }, definitions: { d: { $id: 'defs.json', type }, e: { $id: 'https://example.test/abs-defs', type } } });
  const strings = compileSchema(schema('string'));
  const arrays = compileSchema(schema('array'));
  t.equal(strings({ a: 'x', b: 'y' }), true);
  t.equal(strings({ a: ['x'] }), false);
  t.equal(arrays({ a: ['x'], b: ['y'] }), true);
  t.equal(arrays({ b: 'y' }), false);
});

const plugin = (version: string): string =>
  `export default { name: 'stamp', configSchema: { $id: 'https://example.test/schema-id/reload.schema.json', type: 'object', properties: { value: { type: 'string' } } }, create(c) { return { onResponse(ctx, head) { head.headers['x-stamp'] = '${version}:' + c.value; } }; } };\n`;
const config = (file: string, value: string): string => `server: { host: 127.0.0.1 }\nproviders:\n  echo: { models: [e] }\nfilters:\n  - name: stamp\n    plugin: ./${file}\n    config: { value: ${value} }\n`;

t.test('a plugin rolled to a new file with the same schema $id reloads, and back again', async (t) => {
  const dir = tempDir('gw-schema-id-');
  writeFileSync(path.join(dir, 'stamp-v1.mjs'), plugin('v1'));
  writeFileSync(path.join(dir, 'stamp-v2.mjs'), plugin('v2'));
  const g = await startGateway(t, config('stamp-v1.mjs', 'a'), { dir });
  const stamp = async (): Promise<string | null> => {
    const res = await fetch(`${g.url}/v1/echo/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    return res.headers.get('x-stamp');
  };
  t.equal(await stamp(), 'v1:a');
  for (const [file, value, expected] of [['stamp-v2.mjs', 'b', 'v2:b'], ['stamp-v1.mjs', 'c', 'v1:c'], ['stamp-v2.mjs', 'd', 'v2:d']]) {
    writeFileSync(g.configPath, config(file, value));
    const r = await g.gateway.reload();
    t.equal(r.ok, true, `reload to ${file}: ${r.ok ? 'ok' : r.error.message}`);
    t.equal(await stamp(), expected, `${file} serves`);
  }
});
