/**
 * Verifying a hash-chained audit log (see `chain.ts`): files in order, one chain across
 * them. Reads line by line with one line of lookahead, so a file of any size verifies in
 * constant memory; only at the first break is the rest scanned once more, to tell a
 * reordering (the missing predecessor turns up later) from a deletion.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ANCHOR_EVENT, chainHash, GENESIS, unsealLine } from './chain.js';

/** What kind of change a break points to. */
export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered';

/** The first place where the chain does not hold. */
export interface ChainBreak {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  kind: BreakKind;
  detail: string;
}

/** The result of {@link verifyChain}. */
export interface VerifyReport {
  ok: boolean;
  files: string[];
  lines: number;
  /** `prev` of the first anchor: {@link GENESIS}, or the last hash of an earlier file not given. */
  startsFrom: string | undefined;
  /** The last line's hash: keep it elsewhere to detect a later truncation (`--expect-head`). */
  head: string | undefined;
  break?: ChainBreak;
}

interface Line {
  file: string;
  n: number;
  text: string;
}

async function* linesOf(files: readonly string[]): AsyncGenerator<Line> {
  for (const file of files) {
    let n = 0;
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      n++;
      if (text !== '') yield { file, n, text };
    }
  }
}

/** Where the line with `hash` is, searching the lines after `from`. */
async function findLater(files: readonly string[], from: Line, hash: string): Promise<Line | undefined> {
  let past = false;
  for await (const l of linesOf(files)) {
    if (!past) {
      past = l.file === from.file && l.n === from.n;
      continue;
    }
    if (unsealLine(l.text)?.hash === hash) return l;
  }
  return undefined;
}

function isAnchor(body: string): boolean {
  try {
    return (JSON.parse(body) as { event?: unknown }).event === ANCHOR_EVENT;
  } catch {
    return false;
  }
}

/** Recently accepted lines by hash, to recognise a line that chains to an earlier one. */
const WINDOW = 4096;

/**
 * Verify `files` (oldest first) as one chain; stops at the first break.
 * @example
 * const r = await verifyChain(auditFiles(['/var/log/gateway'])[0]);
 * if (!r.ok) console.error(`${r.break!.file}:${r.break!.line}: ${r.break!.kind}`);
 */
export async function verifyChain(files: readonly string[], expectHead?: string): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, files: [...files], lines: 0, startsFrom: undefined, head: undefined };
  const seen = new Map<string, Line>();
  let expected: string | undefined; // the accepted chain's last hash
  let beforeLast: string | undefined;
  let currentFile = '';
  const it = linesOf(files)[Symbol.asyncIterator]();
  let next = await it.next();
  const fail = (l: Line, kind: BreakKind, detail: string): VerifyReport => {
    report.ok = false;
    report.break = { file: l.file, line: l.n, kind, detail };
    return report;
  };
  while (!next.done) {
    const l = next.value;
    next = await it.next();
    const following = next.done ? undefined : unsealLine(next.value.text);
    const sealed = unsealLine(l.text);
    const firstOfFile = l.file !== currentFile;
    currentFile = l.file;
    if (!sealed || chainHash(sealed.prev, sealed.body) !== sealed.hash) {
      // A line that does not hash: added (the next line chains past it) or altered.
      if (expected !== undefined && following?.prev === expected) return fail(l, 'inserted', 'this line is not part of the chain: the next line chains to the line before it');
      return fail(l, 'edited', sealed ? 'the line does not match its hash: it was changed after it was written' : 'the line has no valid chain fields: it was changed or added');
    }
    if (firstOfFile && !isAnchor(sealed.body)) return fail(l, 'deleted', 'the file does not start with its anchor line');
    if (expected === undefined) {
      report.startsFrom = sealed.prev;
    } else if (sealed.prev !== expected) {
      if (sealed.hash === expected) return fail(l, 'inserted', 'this line repeats the line before it');
      if (sealed.prev === beforeLast) {
        const last = seen.get(expected)!;
        return fail(last, 'inserted', `this line is not part of the chain: ${path.basename(l.file)}:${l.n} chains to the line before it`);
      }
      const earlier = seen.get(sealed.prev);
      if (earlier) return fail(l, 'reordered', `this line belongs right after ${path.basename(earlier.file)}:${earlier.n}`);
      const later = await findLater(files, l, sealed.prev);
      if (later) return fail(l, 'reordered', `this line belongs right after ${path.basename(later.file)}:${later.n}, which comes later`);
      return fail(l, 'deleted', firstOfFile
        ? 'the previous file does not end with the line this anchor names: lines were deleted at its end, or a file is missing'
        : 'the line before this one is missing (deleted), or was changed and re-hashed');
    }
    beforeLast = expected;
    expected = sealed.hash;
    report.lines++;
    seen.set(sealed.hash, l);
    if (seen.size > WINDOW) seen.delete(seen.keys().next().value!);
  }
  report.head = expected;
  if (expectHead !== undefined && expected !== expectHead) {
    report.ok = false;
    const last = files.at(-1) ?? '';
    report.break = { file: last, line: 0, kind: 'deleted', detail: `the chain ends at ${expected ?? 'nothing'}, not at the expected head ${expectHead}: lines were deleted at the end` };
  }
  return report;
}

const STAMPED = /^(.*)-(\d{8}T\d{9}Z)(\.[^.]*)?$/;

/**
 * The audit files named by `args` in chain order: files as given; a directory expands to
 * its rotated files (by timestamp) followed by the active one, per log.
 */
export function auditFiles(args: readonly string[]): string[][] {
  const groups: string[][] = [];
  const loose: string[] = [];
  for (const arg of args) {
    if (!statSync(arg).isDirectory()) loose.push(arg);
    else groups.push(...logsIn(arg));
  }
  if (loose.length > 0) groups.unshift(loose);
  return groups;
}

/** A directory's logs, by the active file's name: rotated files oldest first, then the active one. */
function logsIn(dir: string): string[][] {
  const names = readdirSync(dir)
    .sort()
    .filter((name) => statSync(path.join(dir, name)).isFile() && !name.includes('.unchained-'));
  const byLog = new Map<string, { rotated: string[]; active?: string }>();
  for (const name of names) {
    const m = STAMPED.exec(name);
    if (!m) continue;
    const key = `${m[1]}${m[3] ?? ''}`;
    const g = byLog.get(key) ?? { rotated: [] };
    g.rotated.push(path.join(dir, name));
    byLog.set(key, g);
  }
  for (const name of names) {
    if (STAMPED.test(name)) continue;
    // Rotated files name their active file whatever its extension; a lone file needs a log's.
    const g = byLog.get(name);
    if (g) g.active = path.join(dir, name);
    else if (/\.(jsonl|log|json)$/.test(name)) byLog.set(name, { rotated: [], active: path.join(dir, name) });
  }
  return [...byLog.keys()].sort().map((key) => {
    const g = byLog.get(key)!;
    return [...g.rotated, ...(g.active ? [g.active] : [])];
  });
}

export { GENESIS };
