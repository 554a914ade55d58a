/**
 * The config schema's validator, compiled ahead of time at build (ajv standalone code),
 * because compiling it at start-up is most of the gateway's start-up CPU. The generated
 * file carries the schema's sha256: when it does not match the schema on disk (a stale
 * build, or running from sources) the validator is compiled at run time as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, compileSchema } from './ajv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const GENERATED = path.join(here, 'config-validator.generated.cjs');

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The validator for `schemaText`: the build's precompiled one when it matches, else compiled now. */
export function configValidator(schemaText: string, schema: object): ValidateFunction {
  if (existsSync(GENERATED)) {
    const mod = createRequire(import.meta.url)(GENERATED) as { schemaHash?: string; default?: ValidateFunction };
    if (mod.schemaHash === sha256(schemaText) && typeof mod.default === 'function') return mod.default;
  }
  return compileSchema(schema);
}

/** Write the precompiled validator next to this module (run by `npm run build`). */
export function precompile(schemaText: string): string {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  const validate = ajv.compile(JSON.parse(schemaText) as object);
  const code = `${standaloneCode.default(ajv, validate)}\nmodule.exports.schemaHash = ${JSON.stringify(sha256(schemaText))};\n`;
  writeFileSync(GENERATED, code);
  return GENERATED;
}

// `node dist/core/config/precompiled.js <schema>`: the build step.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = precompile(readFileSync(process.argv[2], 'utf8'));
  process.stdout.write(`precompiled config validator: ${path.relative(process.cwd(), file)}\n`);
}
