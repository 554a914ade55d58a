/**
 * Golden case folders under test/fixtures/translate/openai-anthropic/. The folder name's
 * prefix says which translator a case exercises:
 *   request-*   input.json (OpenAI request) [options.json] → expected.json (Anthropic body, or {"error": …})
 *   response-*  input.json (Anthropic message) [options.json] → expected.json ({body, usage})
 *   error-*     input.json ({status, headers, body}) → expected.json (translated error)
 *   stream-*    input.json (stream options) + upstream.sse → expected.sse + expected.json ({usage, streamError, model})
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES = fileURLToPath(new URL('../fixtures/translate/openai-anthropic/', import.meta.url));

/** Set GOLDEN_UPDATE=1 to rewrite expected files from the translators' output (then review the diff). */
export const UPDATE = process.env.GOLDEN_UPDATE === '1';

export function cases(prefix: string): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(prefix))
    .map((d) => d.name)
    .sort();
}

export function readJson<T>(dir: string, file: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8')) as T;
}

export function readOptional<T>(dir: string, file: string, fallback: T): T {
  return existsSync(join(FIXTURES, dir, file)) ? readJson<T>(dir, file) : fallback;
}

export function readBytes(dir: string, file: string): Buffer {
  return readFileSync(join(FIXTURES, dir, file));
}

export function writeGolden(dir: string, file: string, content: string | Buffer): void {
  writeFileSync(join(FIXTURES, dir, file), content);
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The same helpers for another translator's fixture folder (`openai-gemini`, `openai-converse`). */
export function fixtureSet(name: string) {
  const root = fileURLToPath(new URL(`../fixtures/translate/${name}/`, import.meta.url));
  const read = (dir: string, file: string): Buffer => readFileSync(join(root, dir, file));
  return {
    root,
    cases: (prefix: string): string[] =>
      readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && d.name.startsWith(prefix))
        .map((d) => d.name)
        .sort(),
    readBytes: read,
    readJson: <T>(dir: string, file: string): T => JSON.parse(read(dir, file).toString('utf8')) as T,
    readOptional: <T>(dir: string, file: string, fallback: T): T => (existsSync(join(root, dir, file)) ? (JSON.parse(read(dir, file).toString('utf8')) as T) : fallback),
    writeGolden: (dir: string, file: string, content: string | Buffer): void => writeFileSync(join(root, dir, file), content),
    /** Compare with the golden file, or rewrite it in update mode. */
    golden(t: { equal(found: unknown, wanted: string, msg: string): unknown }, dir: string, file: string, actual: string | Buffer): void {
      if (UPDATE) return writeFileSync(join(root, dir, file), actual);
      t.equal(actual.toString(), read(dir, file).toString('utf8'), `${dir}/${file}`);
    },
  };
}
