/**
 * The build step that precompiles validators (see `ajv.ts`):
 * `node dist/core/config/precompiled.js` writes one ajv standalone module per schema —
 * the config schema and every built-in filter's and provider's `configSchema`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, PRECOMPILED_DIR, schemaKey } from './ajv.js';
import type { PluginCatalog } from '../plugins.js';

/** Write a standalone validator for each schema; returns how many. */
export function precompile(schemas: readonly object[]): number {
  rmSync(PRECOMPILED_DIR, { recursive: true, force: true });
  mkdirSync(PRECOMPILED_DIR, { recursive: true });
  const seen = new Set<string>();
  for (const schema of schemas) {
    const key = schemaKey(schema);
    if (seen.has(key)) continue;
    seen.add(key);
    // A fresh instance per schema: standalone code must not share compiled refs across files.
    const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
    writeFileSync(path.join(PRECOMPILED_DIR, `${key}.cjs`), standaloneCode.default(ajv, ajv.compile(schema)));
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

// `node dist/core/config/precompiled.js schemas/config.schema.json dist/bin/catalog.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [schemaFile, catalogFile] = process.argv.slice(2);
  const schemas: object[] = [JSON.parse(readFileSync(schemaFile, 'utf8')) as object];
  if (catalogFile) {
    const { builtinCatalog } = (await import(path.resolve(catalogFile))) as { builtinCatalog: PluginCatalog };
    schemas.push(...(await catalogSchemas(builtinCatalog)));
  }
  process.stdout.write(`precompiled ${precompile(schemas)} config validators into ${path.relative(process.cwd(), PRECOMPILED_DIR)}\n`);
}
