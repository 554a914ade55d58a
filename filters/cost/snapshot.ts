/**
 * The build step that writes the JSON copy of a price file (see `SNAPSHOT_DIR`):
 * `node dist/filters/cost/snapshot.js configs/pricing.yaml`. A file whose parsed YAML would
 * not survive JSON unchanged gets no copy, and is parsed as YAML at run time.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parse } from '../../core/deps/yaml.js';
import { SNAPSHOT_DIR, snapshotPath } from './price-book.js';

/** Write the copies; returns the files that got none. */
export function writeSnapshots(files: readonly string[]): string[] {
  rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const skipped: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const doc = parse(text) as unknown;
    const json = JSON.stringify(doc);
    if (json === undefined || !isDeepStrictEqual(JSON.parse(json), doc)) {
      skipped.push(file);
      continue;
    }
    writeFileSync(snapshotPath(text), json);
  }
  return skipped;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const files = process.argv.slice(2);
  const skipped = writeSnapshots(files);
  for (const file of skipped) process.stderr.write(`${file}: not representable as JSON, left to the YAML parser\n`);
  process.stdout.write(`price file snapshots: ${files.length - skipped.length} into ${path.relative(process.cwd(), SNAPSHOT_DIR)}\n`);
}
