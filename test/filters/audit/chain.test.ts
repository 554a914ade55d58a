import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { audit } from '../../../bin/audit.js';
import { chainHash, GENESIS, sealLine, unsealLine } from '../../../filters/audit/chain.js';
import { auditFiles, verifyChain, type VerifyReport } from '../../../filters/audit/verify.js';
import { AuditWriter } from '../../../filters/audit/writer.js';
import { tempDir } from '../../helpers/temp-dir.js';

const SEED = ['timestamp', 'event', 'user', 'workspace', 'provider', 'model', 'tokens_in', 'tokens_out', 'latency_ms', 'status'];

function record(i: number): string {
  return JSON.stringify({ timestamp: new Date(Date.UTC(2026, 1, 4, 12, 0, i)).toISOString(), event: 'ai_request', user: `u${i % 3}`, workspace: 'ws-1', provider: 'echo', model: 'echo-1', tokens_in: i, tokens_out: 2 * i, latency_ms: 5, status: 200, request_id: `r${i}` });
}

/** Writes `n` lines through the real writer, rotating every ~3 KB: several files, one chain. */
async function writeLog(n: number): Promise<{ dir: string; files: string[] }> {
  const dir = tempDir('gw-chain-');
  let now = Date.UTC(2026, 1, 4, 12);
  const w = new AuditWriter({ stdout: false, file: path.join(dir, 'audit.jsonl'), flushIntervalMs: 60_000, flushBytes: 1, rotateBytes: 3000, clock: () => (now += 1000) });
  for (let i = 0; i < n; i++) w.write(record(i));
  await w.close();
  return { dir, files: auditFiles([dir])[0] };
}

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
const put = (f: string, ls: string[]) => writeFileSync(f, ls.join('\n') + '\n');
const broken = (r: VerifyReport) => ({ file: path.basename(r.break?.file ?? ''), line: r.break?.line, kind: r.break?.kind });

t.test('sealing: fixed-length chain fields after the seed fields, hash = sha256(prev + body)', async (t) => {
  const body = record(1);
  const { line, hash } = sealLine(GENESIS, body);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  t.same(Object.keys(parsed).slice(0, 10), SEED, 'the seed fields stay first');
  t.same(Object.keys(parsed).slice(-2), ['prev', 'hash'], 'chain fields last');
  t.equal(hash, chainHash(GENESIS, body));
  t.same(unsealLine(line), { body, prev: GENESIS, hash });
});

t.test('a clean log across rotations verifies, from genesis', async (t) => {
  const { dir, files } = await writeLog(40);
  t.ok(files.length >= 3, `rotated into ${files.length} files`);
  t.equal(path.basename(files.at(-1)!), 'audit.jsonl', 'the active file comes last');
  for (const f of files) t.match(JSON.parse(lines(f)[0]), { event: 'audit_anchor' }, `${path.basename(f)} opens with an anchor`);
  const second = JSON.parse(lines(files[1])[0]) as { prev: string; prev_file: string };
  t.equal(second.prev, unsealLine(lines(files[0]).at(-1)!)!.hash, "the new file's anchor carries the previous file's last hash");
  t.equal(second.prev_file, path.basename(files[0]));
  const r = await verifyChain(files);
  t.ok(r.ok);
  t.equal(r.lines, 40 + files.length);
  t.equal(r.startsFrom, GENESIS);
  const out: string[] = [];
  t.equal(await audit(['verify', dir], (s) => out.push(s), () => {}), 0, 'the command exits 0');
  t.match(out.join(''), /^ok: \d+ lines in \d+ file\(s\), chained from genesis; head [0-9a-f]{64}/);
  t.equal(await audit(['verify', '--expect-head', r.head!, ...files], () => {}, () => {}), 0);
});

t.test('a restarted writer continues the chain in the same file', async (t) => {
  const dir = tempDir('gw-chain-');
  const file = path.join(dir, 'audit.jsonl');
  for (let run = 0; run < 2; run++) {
    const w = new AuditWriter({ stdout: false, file, flushIntervalMs: 60_000, flushBytes: 1 });
    w.write(record(run));
    await w.close();
  }
  t.equal(lines(file).length, 3, 'one anchor, two lines');
  t.ok((await verifyChain([file])).ok);
});

t.test('tampering is found, named by file, line and kind, across a rotation', async (t) => {
  const cases: Array<[string, (ls: string[]) => string[], BreakExpect]> = [
    ['edited', (ls) => ls.map((l, i) => (i === 3 ? l.replace('"tokens_out":', '"tokens_out":1') : l)), { line: 4, kind: 'edited' }],
    ['deleted', (ls) => ls.filter((_, i) => i !== 3), { line: 4, kind: 'deleted' }],
    ['inserted (unsealed)', (ls) => [...ls.slice(0, 3), record(99), ...ls.slice(3)], { line: 4, kind: 'inserted' }],
    ['inserted (forged chain fields)', (ls) => [...ls.slice(0, 3), sealLine(unsealLine(ls[2])!.hash, record(99)).line, ...ls.slice(3)], { line: 4, kind: 'inserted' }],
    ['reordered', (ls) => [...ls.slice(0, 3), ls[4], ls[3], ...ls.slice(5)], { line: 4, kind: 'reordered' }],
    ['anchor deleted', (ls) => ls.slice(1), { line: 1, kind: 'deleted' }],
  ];
  type BreakExpect = { line: number; kind: string };
  for (const [name, tamper, want] of cases) {
    const { dir, files } = await writeLog(40);
    const target = files[1]; // a rotated file in the middle of the chain
    put(target, tamper(lines(target)));
    const r = await verifyChain(files);
    t.notOk(r.ok, `${name}: the chain breaks`);
    t.same(broken(r), { file: path.basename(target), ...want }, `${name}: first break at ${path.basename(target)}:${want.line}`);
    const out: string[] = [];
    t.equal(await audit(['verify', dir], (s) => out.push(s), () => {}), 1, `${name}: exit 1`);
    t.match(out.join(''), `${path.basename(target)}:${want.line}: ${want.kind}`);
  }
});

t.test('lines deleted at the end of a rotated file, a missing file and a truncated tail', async (t) => {
  {
    const { files } = await writeLog(40);
    put(files[0], lines(files[0]).slice(0, -1));
    t.same(broken(await verifyChain(files)), { file: path.basename(files[1]), line: 1, kind: 'deleted' }, "the next file's anchor shows the loss");
  }
  {
    const { files } = await writeLog(40);
    const r = await verifyChain([files[0], ...files.slice(2)]);
    t.same(broken(r), { file: path.basename(files[2]), line: 1, kind: 'deleted' }, 'a missing file');
  }
  {
    const { files } = await writeLog(40);
    const head = (await verifyChain(files)).head!;
    const active = files.at(-1)!;
    put(active, lines(active).slice(0, -1));
    t.ok((await verifyChain(files)).ok, 'a truncated tail alone still chains…');
    const r = await verifyChain(files, head);
    t.notOk(r.ok, '…but not to the head recorded earlier');
    t.equal(r.break?.kind, 'deleted');
  }
  {
    const { files } = await writeLog(10);
    t.equal(await audit(['verify'], () => {}, () => {}), 2, 'usage error: exit 2');
    t.ok(readdirSync(path.dirname(files[0])).length > 0);
  }
});
