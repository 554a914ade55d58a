/**
 * Closing the audit sink waits for the rotated files too. A rotation leaves the old file's
 * stream to finish its queued writes and opens a new one; `close()` used to resolve once
 * the active file's stream finished, while a rotated one could still be writing its last
 * lines. The chain tests then read a rotated file short, now and then under CI load, and a
 * process exiting right after closing could lose those lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { auditFiles, verifyChain } from '../../../filters/audit/verify.js';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { tempDir } from '../../helpers/temp-dir.js';

type Callback = (...args: unknown[]) => void;
type FsWrite = (fd: number, ...rest: unknown[]) => void;

/**
 * Slow the writes to every file but `active` (found by the descriptor's path: Linux's
 * /proc/self/fd), as a loaded disk or thread pool can: the rotated files finish last.
 */
function slowRotatedFiles(t: Test, active: string): void {
  const io = fs as unknown as Record<'write' | 'writev', FsWrite>;
  const original = { write: io.write, writev: io.writev };
  for (const name of ['write', 'writev'] as const) {
    io[name] = (fd: number, ...rest: unknown[]) => {
      const done = rest.pop() as Callback;
      const write = (): void => original[name].call(fs, fd, ...rest, done);
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === active) write();
      else setTimeout(write, 100);
    };
  }
  t.teardown(() => Object.assign(io, original));
}

t.test('every line of every rotated file is on disk once close() resolves', async (t) => {
  const dir = tempDir('gw-rotate-close-');
  slowRotatedFiles(t, path.join(fs.realpathSync(dir), 'audit.jsonl'));
  let now = Date.UTC(2026, 1, 4, 12);
  const lines = 40;
  const w = new AuditWriter({ stdout: false, file: path.join(dir, 'audit.jsonl'), flushIntervalMs: 60_000, flushBytes: 1, rotateBytes: 3000, clock: () => (now += 1000) });
  for (let i = 0; i < lines; i++) w.write(JSON.stringify({ timestamp: new Date(now).toISOString(), event: 'ai_request', request_id: `r${i}`, padding: 'x'.repeat(200) }));
  await w.close();
  const files = auditFiles([dir])[0];
  t.ok(files.length >= 3, `rotated into ${files.length} files`);
  const onDisk = files.reduce((n, f) => n + fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
  t.equal(onDisk, lines + files.length, 'every line and every anchor written');
  t.ok((await verifyChain(files)).ok, 'the chain verifies');
});
