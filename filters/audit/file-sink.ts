/**
 * The audit file: append-only, hash-chained (see `chain.ts`) and rotated by size and/or
 * by UTC day. Rotation renames the active file to `<name>-<UTC timestamp><ext>` and opens
 * a new active file whose anchor names the rotated one and carries its last hash, so the
 * chain runs on across files. A restart picks the chain up from the active file's last
 * line (or the newest rotated file when the active one is gone). Used only by the one
 * audit writer, from its flush, so lines are sealed in the order they are written.
 */
import { appendFileSync, closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { utf8Bytes } from '../../core/index.js';
import { anchorBody, AuditChain, GENESIS, unsealLine } from './chain.js';

/** How the file is kept. */
export interface FileSinkOptions {
  /** Seal lines into a hash chain (default on). */
  chain: boolean;
  /** Rotate once the active file holds this many bytes; 0: never by size. */
  rotateBytes: number;
  /** Rotate when the UTC day changes. */
  rotateDaily: boolean;
  /** Epoch ms; injectable for tests. */
  clock?: () => number;
  /** Reports I/O errors (the writer logs them; requests never see them). */
  onError?: (err: Error) => void;
}

const STAMP = /^\d{8}T\d{9}Z$/;

/** `audit.jsonl` → `audit-20260204T120000000Z.jsonl`. */
export function rotatedName(file: string, at: Date): string {
  const ext = path.extname(file);
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return path.join(path.dirname(file), `${path.basename(file, ext)}-${stamp}${ext}`);
}

/**
 * The name for a rotation at `at`, moved on by a millisecond while taken: rotations within
 * one millisecond would otherwise rename onto (and destroy) the previous rotated file. The
 * clock only moves forward, so each name still sorts after the ones before it.
 */
function freeRotatedName(file: string, at: number): string {
  for (let ms = at; ; ms++) {
    const name = rotatedName(file, new Date(ms));
    if (!existsSync(name)) return name;
  }
}

/** Rotated siblings of `file`, oldest first (their names sort by time). */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const base = path.basename(file, ext);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${base}-`) && n.endsWith(ext) && STAMP.test(n.slice(base.length + 1, n.length - ext.length)))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The last line of a file (reads only its tail), and whether the file ends with a newline. */
export function lastLine(file: string): { line: string; terminated: boolean } | undefined {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return undefined;
  }
  if (size === 0) return undefined;
  const fd = openSync(file, 'r');
  try {
    for (let span = 4096; ; span *= 4) {
      const start = Math.max(0, size - span);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const text = buf.toString('utf8');
      const terminated = text.endsWith('\n');
      const body = terminated ? text.slice(0, -1) : text;
      const nl = body.lastIndexOf('\n');
      if (nl >= 0 || start === 0) return { line: body.slice(nl + 1), terminated };
    }
  } finally {
    closeSync(fd);
  }
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function ended(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve) => stream.end(resolve));
}

export class AuditFileSink {
  private stream: WriteStream;
  /** Rotated files' streams, still writing what was queued before the rotation. */
  private readonly retiring = new Set<Promise<void>>();
  private chain: AuditChain | undefined;
  private size: number;
  private day: string;
  private readonly clock: () => number;

  constructor(readonly file: string, private opts: FileSinkOptions) {
    this.clock = opts.clock ?? Date.now;
    mkdirSync(path.dirname(file), { recursive: true });
    const now = this.clock();
    let pending = '';
    if (opts.chain) pending = this.resume(now);
    this.size = existsSync(file) ? statSync(file).size : 0;
    this.day = this.size > 0 ? utcDay(statSync(file).mtimeMs) : utcDay(now);
    this.stream = this.open();
    if (pending) this.put(pending);
  }

  /** The hash the next line will chain to (undefined when the chain is off). */
  get head(): string | undefined {
    return this.chain?.head;
  }

  /** New rotation thresholds (a config reload), checked from the next append on. */
  setRotation(rotateBytes: number, rotateDaily: boolean): void {
    this.opts = { ...this.opts, rotateBytes, rotateDaily };
  }

  /** Append lines (queued on the file stream). */
  append(lines: readonly string[]): void {
    this.rotateIfDue();
    this.put(this.text(lines));
  }

  /** Append synchronously: process exit, or a line that outlived its writer. */
  appendSync(lines: readonly string[]): void {
    const text = this.text(lines);
    this.size += Buffer.byteLength(text);
    appendFileSync(this.file, text);
  }

  /** Resolves once every line appended so far is written: the active file's and the rotated ones'. */
  async close(): Promise<void> {
    await Promise.all([ended(this.stream), ...this.retiring]);
  }

  private text(lines: readonly string[]): string {
    return this.chain ? this.chain.seal(lines) : lines.join('\n') + '\n';
  }

  private put(text: string): void {
    // Encoded once: the stream would encode a string again after we measured it.
    const bytes = utf8Bytes(text);
    this.size += bytes.length;
    this.stream.write(bytes);
  }

  private open(): WriteStream {
    // Opened now, not lazily: a rotation right after must not find the path already renamed.
    const s = createWriteStream(this.file, { fd: openSync(this.file, 'a') });
    s.on('error', (err) => this.opts.onError?.(err));
    return s;
  }

  /** Pick the chain up where the files on disk left it; returns lines to write first. */
  private resume(now: number): string {
    const last = lastLine(this.file);
    if (last) {
      const sealed = unsealLine(last.line);
      if (sealed && last.terminated) {
        this.chain = new AuditChain(sealed.hash);
        return '';
      }
      // Not ours to extend (a pre-chain file, or a line cut by a crash): set it aside whole.
      const aside = `${this.file}.unchained-${new Date(now).toISOString().replace(/[-:.]/g, '')}`;
      renameSync(this.file, aside);
      this.opts.onError?.(new Error(`${this.file} did not end with a chained line; moved it to ${aside} and started a new chain`));
    }
    const previous = rotatedFiles(this.file).at(-1);
    const prevLine = previous ? lastLine(previous) : undefined;
    const prevHash = (prevLine && unsealLine(prevLine.line)?.hash) ?? GENESIS;
    this.chain = new AuditChain(prevHash);
    return this.chain.seal([anchorBody(path.basename(this.file), previous ? path.basename(previous) : null, new Date(now))]);
  }

  private rotateIfDue(): void {
    const now = this.clock();
    const bySize = this.opts.rotateBytes > 0 && this.size >= this.opts.rotateBytes;
    const byDay = this.opts.rotateDaily && utcDay(now) !== this.day;
    if (!bySize && !byDay || this.size === 0) return;
    const target = freeRotatedName(this.file, now);
    // The old stream keeps its descriptor, so writes still queued on it land in the renamed file;
    // close() waits for them too.
    renameSync(this.file, target);
    const retired = ended(this.stream).finally(() => this.retiring.delete(retired));
    this.retiring.add(retired);
    this.stream = this.open();
    this.size = 0;
    this.day = utcDay(now);
    if (this.chain) this.put(this.chain.seal([anchorBody(path.basename(this.file), path.basename(target), new Date(now))]));
  }
}
