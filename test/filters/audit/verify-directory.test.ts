/**
 * `audit verify DIR` must not pass a tampered log because of what else the directory
 * holds: `--expect-head` beside a second log (a replica's), or an active file whose
 * extension is not one of the usual log extensions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { audit } from '../../../bin/audit.js';
import { AuditFileSink } from '../../../filters/audit/file-sink.js';
import { auditFiles } from '../../../filters/audit/verify.js';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { tempDir } from '../../helpers/temp-dir.js';

const record = (i: number) => JSON.stringify({ timestamp: new Date(Date.UTC(2026, 1, 4, 12, 0, i)).toISOString(), event: 'ai_request', user: 'u', n: i, pad: 'x'.repeat(60) });

async function writeLog(file: string, n: number): Promise<void> {
  const w = new AuditWriter({ stdout: false, file, flushIntervalMs: 60_000, flushBytes: 1 << 20 });
  for (let i = 0; i < n; i++) w.write(record(i));
  await w.close();
}

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const got: string[] = [];
  const code = await audit(args, (s) => got.push(s), (s) => got.push(s));
  return { code, text: got.join('') };
}

t.test('--expect-head over a directory of two logs is refused, not dropped', async (t) => {
  const dir = tempDir('gw-verify-');
  const active = path.join(dir, 'audit.jsonl');
  await writeLog(active, 5);
  await writeLog(path.join(dir, 'replica-b.jsonl'), 3);
  const head = (JSON.parse((await run(['verify', '--json', active])).text) as { head: string }).head;
  // Lines cut from the end of the newest file: only the recorded head can show it.
  const lines = readFileSync(active, 'utf8').split('\n').filter(Boolean);
  writeFileSync(active, lines.slice(0, -2).join('\n') + '\n');

  const r = await run(['verify', '--expect-head', head, dir]);
  t.equal(r.code, 2, `refused with a usage error: ${r.text}`);
  t.match(r.text, /--expect-head.*2 logs.*audit\.jsonl.*replica-b\.jsonl/, 'the message names the logs');
  t.equal((await run(['verify', '--expect-head', head, active])).code, 1, "the log's own files still verify against the head, and fail");
  t.equal((await run(['verify', dir])).code, 0, 'without --expect-head a directory of several logs verifies as before');
});

t.test('an active file with any extension is verified when rotated files name it', async (t) => {
  for (const name of ['audit.txt', 'audit']) {
    const dir = tempDir('gw-verify-');
    const file = path.join(dir, name);
    let now = Date.UTC(2026, 1, 4, 12);
    const sink = new AuditFileSink(file, { chain: true, rotateBytes: 300, rotateDaily: false, clock: () => (now += 1000) });
    for (let i = 0; i < 6; i++) sink.append([record(i)]);
    await sink.close();
    const [group] = auditFiles([dir]);
    t.ok(group.length > 1, `${name}: rotated into ${group.length} files`);
    t.equal(group.at(-1), file, `${name}: the active file comes last in its log`);

    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"user":"u","n":5', '"user":"mallory","n":5'));
    t.not(readFileSync(file, 'utf8'), text);
    const r = await run(['verify', dir]);
    t.equal(r.code, 1, `${name}: the edited active file is caught: ${r.text}`);
    t.match(r.text, new RegExp(`FAILED: .*/${name}:\\d+: edited`));
  }
});

t.test('a lone file is taken only with a log extension, as before', async (t) => {
  const dir = tempDir('gw-verify-');
  await writeLog(path.join(dir, 'audit.log'), 2);
  writeFileSync(path.join(dir, 'notes.txt'), 'not a log\n');
  t.same(auditFiles([dir]).map((g) => g.map((f) => path.basename(f))), [['audit.log']]);
});
