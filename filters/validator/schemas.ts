/**
 * Request-body JSON Schemas, per dialect, compiled when the filter is created (and reused
 * while the file is unchanged), reported as `field.path: problem`. The shipped schemas are
 * precompiled at build; request validation must never coerce or fill in the client's body,
 * hence the input profile. Most schemas can judge a body's shape without its decoded text
 * ({@link shapeSafe}).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileSchema, INPUT_PROFILE } from '../../core/config/ajv.js';
import { compileJsonCheck, type JsonCheck, type JsonReads } from '../../core/index.js';
import { packageRoot } from '../../core/package-root.js';
import { schemaReads } from './schema-reads.js';

/** A dialect's request schema, compiled. */
export interface LoadedSchema {
  validate: ValidateFunction;
  /** Judges `ctx.jsonShape()` as it would `ctx.json()` (see {@link shapeSafe}). */
  shapeSafe: boolean;
  /** What the schema looks at: it judges `ctx.jsonPick(reads)` as it judges the whole shape. */
  reads: JsonReads;
  /**
   * The schema judged on a body's bytes (`ctx.jsonCheck`), when it asks for an object and
   * uses only the keywords that compile; a body it passes needs no pick and no ajv.
   */
  check: JsonCheck | undefined;
}

const compiled = new Map<string, { mtimeMs: number; loaded: LoadedSchema }>();

/** `name.schema.json` is looked up in the package's `schemas/`; `./x` and `../x` beside the config. */
export function resolveSchemaPath(ref: string, configDir: string): string {
  if (path.isAbsolute(ref)) return ref;
  if (ref.startsWith('./') || ref.startsWith('../')) return path.resolve(configDir, ref);
  return path.join(packageRoot, 'schemas', ref);
}

export function loadSchema(file: string): LoadedSchema {
  const mtimeMs = statSync(file).mtimeMs;
  const hit = compiled.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.loaded;
  const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
  const check = (schema as { type?: unknown }).type === 'object' ? compileJsonCheck(schema) : undefined;
  const loaded = { validate: compileSchema(schema, INPUT_PROFILE), shapeSafe: shapeSafe(schema), reads: schemaReads(schema), check };
  compiled.set(file, { mtimeMs, loaded });
  return loaded;
}

/** Keywords that measure or match a string's characters, where its UTF-8 bytes would differ. */
const TEXT_KEYWORDS = new Set(['maxLength', 'pattern', 'patternProperties', 'propertyNames', 'format', 'contentEncoding', 'contentMediaType']);

/**
 * Whether a schema judges a body's shape (strings outside ASCII read as their UTF-8 bytes)
 * as it judges the exact body: it must not measure or match text (a `minLength` of 0 or 1
 * only asks for a non-empty string, which the bytes answer alike) nor name anything outside
 * ASCII. Conservative: a property that happens to be called `pattern` also says no.
 */
export function shapeSafe(schema: unknown): boolean {
  if (typeof schema === 'string') return !NON_ASCII.test(schema);
  if (Array.isArray(schema)) return schema.every(shapeSafe);
  if (!schema || typeof schema !== 'object') return true;
  for (const [key, value] of Object.entries(schema)) {
    if (TEXT_KEYWORDS.has(key) || NON_ASCII.test(key)) return false;
    if (key === 'minLength' && !(typeof value === 'number' && value <= 1)) return false;
    if (!shapeSafe(value)) return false;
  }
  return true;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** `messages[0].role`-style path of an ajv error, including the missing or extra key. */
export function describeError(e: ErrorObject): { field: string; message: string } {
  let field = e.instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
  const params = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  if (params.missingProperty) field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
  if (params.additionalProperty) field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
  let message = e.message ?? 'is invalid';
  if (params.allowedValues) message += `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return { field: field || '(body)', message };
}
