/**
 * Lines waiting for the audit flush are held flat: a line arrives as a rope of dozens of
 * pieces (the record is written field by field), which takes several times its text's
 * size until something flattens it. Measured on the heap with 20,000 lines queued.
 */
import t from 'tap';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { exposedGc } from '../../helpers/gc.js';

const gc = exposedGc();

/** A ~650-character JSON line built piece by piece, as `auditLine` builds one. */
function ropeLine(k: number): string {
  let line = `{"n":${k}`;
  for (let i = 0; i < 30; i++) line = line + `,"field${i}":"` + (k * 31 + i) + '-value"';
  return line + '}';
}

t.test('queued lines take little more heap than their text', async (t) => {
  const writer = new AuditWriter({ stdout: false, file: undefined, flushIntervalMs: 60_000, flushBytes: 1e9 });
  const LINES = 20_000;
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  let chars = 0;
  for (let k = 0; k < LINES; k++) {
    const line = ropeLine(k);
    chars += line.length;
    writer.write(line);
  }
  gc();
  gc();
  const perLine = (process.memoryUsage().heapUsed - before) / LINES;
  const textPerLine = chars / LINES;
  t.ok(perLine < textPerLine * 2, `${perLine.toFixed(0)} bytes of heap per queued line of ${textPerLine.toFixed(0)} characters (held as ropes: ~6×)`);
  await writer.close();
  t.equal(writer.written, LINES, 'every line was flushed on close');
});
