/**
 * The one ajv instance. Validators are compiled once per schema object and cached, so a
 * reload with the same plugins compiles nothing. `coerceTypes` lets `${AI_GATEWAY_PORT}`
 * (a string after interpolation) satisfy `type: integer`.
 */
import { Ajv, type ValidateFunction } from 'ajv';

/** Shared with the build's precompiled config validator, which must behave the same. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, coerceTypes: true, strict: false } as const;

export const ajv = new Ajv({ ...AJV_OPTIONS });

const cache = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: object): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}
