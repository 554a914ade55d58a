/**
 * Compiling JSON Schemas. Validators are compiled once per schema object and cached, so a
 * reload with the same plugins compiles nothing. `coerceTypes` lets `${AI_GATEWAY_PORT}`
 * (a string after interpolation) satisfy `type: integer`.
 *
 * Compiling is most of the gateway's start-up CPU, so `npm run build` also writes ajv
 * standalone code for the config schema, every built-in plugin's schema and the shipped
 * request-body schemas, each in a file named by the sha256 of the schema's JSON (and its
 * profile): a schema that changed (or a plugin's own) simply finds no file and is compiled
 * at run time as before. ajv itself (60-odd modules) is loaded only then.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { requireCached } from '../deps/code-cache.js';

/** Shared with the build's precompiled validators, which must behave the same. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, coerceTypes: true, strict: false } as const;

/** A set of ajv options, named in the precompiled file's key. */
export interface AjvProfile {
  readonly name: string;
  readonly options: Options;
}

/** Config sections: every error reported, defaults filled in, scalars coerced. */
export const CONFIG_PROFILE: AjvProfile = { name: 'config', options: AJV_OPTIONS };

/** What clients send: never coerced or filled in, the first error only. */
export const INPUT_PROFILE: AjvProfile = { name: 'input', options: { allErrors: false, strict: false, coerceTypes: false, useDefaults: false } };

/** Where the build writes precompiled validators (next to this module, in dist/). */
export const PRECOMPILED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'precompiled');

const caches = new Map<AjvProfile, WeakMap<object, ValidateFunction>>();
const load = createRequire(import.meta.url);
const instances = new Map<AjvProfile, Ajv>();

/** The one ajv instance of a profile, created the first time a schema has no precompiled validator. */
function ajvFor(profile: AjvProfile): Ajv {
  let ajv = instances.get(profile);
  if (!ajv) {
    const { Ajv: AjvClass } = load('ajv') as typeof import('ajv');
    ajv = new AjvClass({ ...profile.options });
    instances.set(profile, ajv);
  }
  return ajv;
}

/**
 * The schema a profile compiles: without its root `$id`. A profile's schemas share one ajv,
 * which refuses a second schema under an id it holds, and the same id comes again with a
 * changed request schema file, a plugin's new version under a new file name or two copies
 * of one plugin. The root id only names the document: its `#/…` refs resolve without it.
 * (A nested `$id` is not registered as a schema, so it does not collide.)
 */
export function profiled(schema: object, _profile: AjvProfile): object {
  if (!('$id' in schema)) return schema;
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/** The name a schema's precompiled validator is stored under. */
export function schemaKey(schema: object, profile: AjvProfile = CONFIG_PROFILE): string {
  const hash = createHash('sha256');
  // The config profile's keys predate profiles: its schemas are hashed alone.
  if (profile !== CONFIG_PROFILE) hash.update(`${profile.name}\n`);
  return hash.update(JSON.stringify(profiled(schema, profile))).digest('hex');
}

export function compileSchema(schema: object, profile: AjvProfile = CONFIG_PROFILE): ValidateFunction {
  let cache = caches.get(profile);
  if (!cache) caches.set(profile, (cache = new WeakMap()));
  let fn = cache.get(schema);
  if (!fn) {
    const file = path.join(PRECOMPILED_DIR, `${schemaKey(schema, profile)}.cjs`);
    fn = existsSync(file) ? (requireCached(file) as ValidateFunction) : ajvFor(profile).compile(profiled(schema, profile));
    cache.set(schema, fn);
  }
  return fn;
}
