/**
 * The build step that precompiles validators (see `ajv.ts`):
 * `node dist/core/config/precompiled.js` writes one ajv standalone module per schema —
 * the config schema and every built-in filter's and provider's `configSchema` (config
 * profile), and each request-body schema named after `--input` (input profile).
 *
 * Each file is bundled with the bits of ajv's runtime it calls (`ucs2length`, `equal` and
 * its `fast-deep-equal`): required through Node's loader from node_modules, those took
 * ~4 ms of every start to resolve, read and compile without a code cache.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { bundleCommonJs } from '../build/commonjs-bundle.js';
import { CONFIG_PROFILE, INPUT_PROFILE, PRECOMPILED_DIR, profiled, schemaKey, type AjvProfile } from './ajv.js';
import type { PluginCatalog } from '../plugins.js';

/** Write a standalone validator for each schema (config profile unless named); returns how many. */
export async function precompile(schemas: ReadonlyArray<object | { schema: object; profile: AjvProfile }>): Promise<number> {
  rmSync(PRECOMPILED_DIR, { recursive: true, force: true });
  mkdirSync(PRECOMPILED_DIR, { recursive: true });
  const seen = new Set<string>();
  for (const item of schemas) {
    const { schema, profile } = 'profile' in item ? (item as { schema: object; profile: AjvProfile }) : { schema: item, profile: CONFIG_PROFILE };
    const key = schemaKey(schema, profile);
    if (seen.has(key)) continue;
    seen.add(key);
    // A fresh instance per schema: standalone code must not share compiled refs across files.
    const ajv = new Ajv({ ...profile.options, code: { source: true } });
    const code = standaloneCode.default(ajv, ajv.compile(profiled(schema, profile)));
    await bundleCommonJs({ stdin: { contents: code, resolveDir: PRECOMPILED_DIR, loader: 'js' }, outfile: path.join(PRECOMPILED_DIR, `${key}.cjs`) });
  }
  return seen.size;
}

async function catalogSchemas(catalog: PluginCatalog): Promise<object[]> {
  const out: object[] = [];
  for (const loadPlugin of [...Object.values(catalog.filters), ...Object.values(catalog.providers)]) {
    const plugin = (await loadPlugin()) as { configSchema?: object };
    if (plugin.configSchema) out.push(plugin.configSchema);
  }
  return out;
}

// `node dist/core/config/precompiled.js schemas/config.schema.json dist/bin/catalog.js [--input schemas/x.schema.json]…`
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { input: { type: 'string', multiple: true } } });
  const [schemaFile, catalogFile] = positionals;
  const readJson = (file: string): object => JSON.parse(readFileSync(file, 'utf8')) as object;
  const schemas: Array<object | { schema: object; profile: AjvProfile }> = [readJson(schemaFile)];
  if (catalogFile) {
    const { builtinCatalog } = (await import(path.resolve(catalogFile))) as { builtinCatalog: PluginCatalog };
    schemas.push(...(await catalogSchemas(builtinCatalog)));
  }
  for (const file of values.input ?? []) schemas.push({ schema: readJson(file), profile: INPUT_PROFILE });
  process.stdout.write(`precompiled ${await precompile(schemas)} validators into ${path.relative(process.cwd(), PRECOMPILED_DIR)}\n`);
}
