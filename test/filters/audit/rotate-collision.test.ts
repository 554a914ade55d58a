/**
 * Rotated files are named by the millisecond of their rotation; several rotations within
 * one millisecond (a burst of large lines with a small `rotate_bytes`) must each keep
 * their own file, in order, so no line is lost and the chain still verifies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { AuditFileSink, rotatedFiles } from '../../../filters/audit/file-sink.js';
import { auditFiles, verifyChain } from '../../../filters/audit/verify.js';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { tempDir } from '../../helpers/temp-dir.js';

const record = (i: number) => JSON.stringify({ timestamp: '2026-02-04T12:00:00.000Z', event: 'ai_request', n: i, pad: 'x'.repeat(100) });
const requests = (files: string[]) => files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.includes('"ai_request"')));

t.test('rotations within one millisecond keep every file, in order', async (t) => {
  const dir = tempDir('gw-rotate-');
  const file = path.join(dir, 'audit.jsonl');
  const frozen = Date.UTC(2026, 1, 4, 12);
  const sink = new AuditFileSink(file, { chain: true, rotateBytes: 200, rotateDaily: false, clock: () => frozen });
  for (let i = 0; i < 5; i++) sink.append([record(i)]);
  await sink.close();

  const rotated = rotatedFiles(file);
  // The anchor alone fills the first file, so every append rotates.
  const stamps = [0, 1, 2, 3, 4].map((ms) => `audit-20260204T12000000${ms}Z.jsonl`);
  t.same(rotated.map((f) => path.basename(f)), stamps, 'a taken name moves on by a millisecond');
  const files = auditFiles([dir])[0];
  t.same(files, [...rotated, file], 'the verifier lists them in rotation order');
  t.same(requests(files).map((l) => (JSON.parse(l) as { n: number }).n), [0, 1, 2, 3, 4], 'every line is kept, in order');
  const r = await verifyChain(files);
  t.ok(r.ok, `the chain verifies: ${JSON.stringify(r.break)}`);

  // A restart in the same millisecond chains on from the newest rotated file.
  const again = new AuditFileSink(file, { chain: true, rotateBytes: 200, rotateDaily: false, clock: () => frozen });
  again.append([record(5)]);
  again.append([record(6)]);
  await again.close();
  const after = auditFiles([dir])[0];
  t.equal(after.length, files.length + 2, 'two more rotations, neither onto a taken name');
  t.ok((await verifyChain(after)).ok, 'still one chain after the restart');
});

t.test('no line is lost when the writer rotates faster than once per millisecond', async (t) => {
  const dir = tempDir('gw-rotate-');
  const file = path.join(dir, 'audit.jsonl');
  const w = new AuditWriter({ stdout: false, file, flushIntervalMs: 200, flushBytes: 1, chain: true, rotateBytes: 200, rotateDaily: false });
  const n = 200;
  for (let i = 0; i < n; i++) w.write(record(i));
  await w.close();
  const files = auditFiles([dir])[0];
  t.equal(requests(files).length, n, `all ${n} lines are on disk, in ${files.length} files`);
  const r = await verifyChain(files);
  t.ok(r.ok, `the chain verifies: ${JSON.stringify(r.break)}`);
});
