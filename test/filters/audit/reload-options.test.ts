/**
 * A reload that keeps the audit file keeps its one shared writer, and that writer takes the
 * reload's `rotate_*` and `flush_*` settings; a changed `chain` is reported and waits for
 * a restart, so one file never mixes chained and unchained lines.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { verifyChain, auditFiles } from '../../../filters/audit/verify.js';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { auditLines, config, post, waitFor } from '../fixtures.js';

const yaml = (audit: string) =>
  config(`  - name: auth
  - name: audit
    config: { stdout: false, file: ./audit/audit.jsonl, ${audit} }
`);

t.test('rotate_bytes set by a reload takes effect on the same file', async (t) => {
  const gw = await startGateway(t, yaml('flush_interval_ms: 20, rotate_bytes: 0'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  await post(url, { 'x-workspace-id': 'ws-abc123' });
  writeFileSync(gw.configPath, yaml('flush_interval_ms: 20, rotate_bytes: 1000'));
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'the reload applied');
  for (let i = 0; i < 10; i++) {
    await post(url, { 'x-workspace-id': 'ws-abc123' });
    await sleep(40);
  }
  await gw.gateway.close();
  const dir = path.join(gw.dir, 'audit');
  const files = readdirSync(dir);
  t.ok(files.length > 3, `the lines after the reload were rotated at 1000 bytes (files: ${files.join(', ')})`);
  t.ok((await verifyChain(auditFiles([dir])[0])).ok, 'one chain across the rotations');
});

t.test('flush_interval_ms set by a reload takes effect; a changed chain is reported, not applied', async (t) => {
  const gw = await startGateway(t, yaml('flush_interval_ms: 60000, flush_bytes: 1048576'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const file = path.join(gw.dir, 'audit', 'audit.jsonl');
  writeFileSync(gw.configPath, yaml('flush_interval_ms: 20, flush_bytes: 1048576, chain: false'));
  t.ok((await gw.gateway.reload()).ok);
  await post(url, { 'x-workspace-id': 'ws-abc123' });
  t.ok(await waitFor(() => auditLines(file).length === 1, 3000), 'the line is written within the new interval, not after 60 s');
  t.match(auditLines(file)[0], { prev: /^[0-9a-f]{64}$/, hash: /^[0-9a-f]{64}$/ }, 'the live file stays chained');
  t.ok(
    gw.logs.some((l) => l.level === 'warn' && /chain setting changed/.test(String(l.msg)) && l.chain === true && l.configured === false),
    'the reload is told that chain: false waits for a restart',
  );
});

t.test('a reconfigured writer flushes by its new flush_bytes', async (t) => {
  const file = path.join(tempDir('gw-reload-'), 'audit.jsonl');
  const w = new AuditWriter({ stdout: false, file, flushIntervalMs: 60_000, flushBytes: 1 << 20 });
  w.write(JSON.stringify({ event: 'ai_request', n: 1 }));
  t.equal(w.written, 0, 'queued under the old settings');
  w.reconfigure({ stdout: false, file, flushIntervalMs: 60_000, flushBytes: 1 });
  t.equal(w.written, 1, 'what waits already reaches the new flush_bytes');
  w.write(JSON.stringify({ event: 'ai_request', n: 2 }));
  t.equal(w.written, 2, 'and each later line flushes at once');
  await w.close();
});
