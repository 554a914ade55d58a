/**
 * The one ajv instance. Validators are compiled once per schema object and cached, so a
 * reload with the same plugins compiles nothing. `coerceTypes` lets `${AI_GATEWAY_PORT}`
 * (a string after interpolation) satisfy `type: integer`.
 *
 * Compiling is most of the gateway's start-up CPU, so `npm run build` also writes ajv
 * standalone code for the config schema and every built-in plugin's schema, each in a
 * file named by the sha256 of the schema's JSON: a schema that changed (or a plugin's own)
 * simply finds no file and is compiled at run time as before.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

/** Shared with the build's precompiled validators, which must behave the same. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, coerceTypes: true, strict: false } as const;

export const ajv = new Ajv({ ...AJV_OPTIONS });

/** Where the build writes precompiled validators (next to this module, in dist/). */
export const PRECOMPILED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'precompiled');

const cache = new WeakMap<object, ValidateFunction>();
const load = createRequire(import.meta.url);

/** The name a schema's precompiled validator is stored under. */
export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

export function compileSchema(schema: object): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    const file = path.join(PRECOMPILED_DIR, `${schemaKey(schema)}.cjs`);
    fn = existsSync(file) ? (load(file) as ValidateFunction) : ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}
