/**
 * The one ajv instance. Validators are compiled once per schema object and cached, so a
 * reload with the same plugins compiles nothing. `coerceTypes` lets `${AI_GATEWAY_PORT}`
 * (a string after interpolation) satisfy `type: integer`.
 */
import { Ajv, type ValidateFunction } from 'ajv';

export const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false });

const cache = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: object): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}
