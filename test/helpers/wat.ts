/**
 * The WebAssembly built from `core/json-scan/strings.wat`, and the module that carries it.
 * `core/json-scan/strings-wasm.ts` is generated (the gateway needs no toolchain to run);
 * the test beside it checks it matches the source. Regenerate after editing the WAT:
 *
 *   npx tsx test/helpers/wat.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const WAT_PATH = fileURLToPath(new URL('../../core/json-scan/strings.wat', import.meta.url));
export const MODULE_PATH = fileURLToPath(new URL('../../core/json-scan/strings-wasm.ts', import.meta.url));

export async function compileWat(path: string = WAT_PATH): Promise<Uint8Array> {
  return watToBinary(readFileSync(path, 'utf8'), path);
}

/** WebAssembly text (`name` for its error messages) as a module's bytes, validated. */
export async function watToBinary(text: string, name = 'inline.wat'): Promise<Uint8Array> {
  const toolkit = await wabt();
  const parsed = toolkit.parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

/** The generated TypeScript module's text for these bytes. */
export function moduleText(bytes: Uint8Array): string {
  const base64 = Buffer.from(bytes).toString('base64');
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    '// Generated from strings.wat by `npx tsx test/helpers/wat.ts`; do not edit.',
    '// test/core/json-scan.test.ts checks that it matches the source.',
    `export const STRINGS_WASM = Buffer.from(`,
    ...lines.map((line, i) => `  '${line}'${i < lines.length - 1 ? ' +' : ','}`),
    `  'base64',`,
    ');',
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(MODULE_PATH, moduleText(await compileWat()));
  console.log(`wrote ${MODULE_PATH}`);
}
