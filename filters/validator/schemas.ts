/**
 * Request-body JSON Schemas, per dialect, compiled when the filter is created (and reused
 * while the file is unchanged), reported as `field.path: problem`. The shipped schemas are
 * precompiled at build; request validation must never coerce or fill in the client's body,
 * hence the input profile.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileSchema, INPUT_PROFILE } from '../../core/config/ajv.js';
import { packageRoot } from '../../core/config/load.js';

const compiled = new Map<string, { mtimeMs: number; validate: ValidateFunction }>();

/** `name.schema.json` is looked up in the package's `schemas/`; `./x` and `../x` beside the config. */
export function resolveSchemaPath(ref: string, configDir: string): string {
  if (path.isAbsolute(ref)) return ref;
  if (ref.startsWith('./') || ref.startsWith('../')) return path.resolve(configDir, ref);
  return path.join(packageRoot, 'schemas', ref);
}

export function loadSchema(file: string): ValidateFunction {
  const mtimeMs = statSync(file).mtimeMs;
  const hit = compiled.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.validate;
  const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
  const validate = compileSchema(schema, INPUT_PROFILE);
  compiled.set(file, { mtimeMs, validate });
  return validate;
}

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
