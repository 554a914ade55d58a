/**
 * The audit writer: lines are queued in memory and written off the request path, on a
 * short interval or once enough bytes wait, to stdout and/or an append-only file. One
 * writer per sink set lives in the runtime's shared state, reference-counted by the
 * pipelines using it, so a reload never opens a second file handle (no interleaving) and
 * never drops queued lines. A reload's new flush and rotation settings are applied to the
 * shared writer; a changed `chain` waits for the next open (a restart), so one file never
 * mixes chained and unchained lines. A process exit flushes synchronously.
 *
 * The writer is opened through `env.singleWriters`: with `server.workers` > 1 it runs in
 * the cluster primary, fed by every worker, so the file still has exactly one writer.
 */
import { writeSync } from 'node:fs';
import { defineWriterKind, flat, type PluginEnv, type SharedState, type SingleWriter } from '../../core/index.js';
import { AuditFileSink } from './file-sink.js';

export interface SinkOptions {
  stdout: boolean;
  /** Absolute path of the append-only file, or undefined for none. */
  file: string | undefined;
  flushIntervalMs: number;
  flushBytes: number;
  /** Hash-chain the file's lines (`chain.ts`); default on. */
  chain?: boolean;
  /** Rotate the file at this size in bytes; 0 or absent: never by size. */
  rotateBytes?: number;
  /** Rotate the file when the UTC day changes. */
  rotateDaily?: boolean;
  /** Test clock for rotation. */
  clock?: () => number;
}

export class AuditWriter {
  private queue: string[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout;
  private readonly file: AuditFileSink | undefined;
  private closed = false;
  /** Lines written so far; lets tests and `/metrics` reason about loss. */
  written = 0;

  constructor(private opts: SinkOptions) {
    if (opts.file) {
      const onError = (err: Error) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'audit file write failed', err: err.message })}\n`);
      this.file = new AuditFileSink(opts.file, { chain: opts.chain ?? true, rotateBytes: opts.rotateBytes ?? 0, rotateDaily: opts.rotateDaily ?? false, clock: opts.clock, onError });
    }
    this.timer = this.every(opts.flushIntervalMs);
    live.add(this);
  }

  /** A reload's settings for the same sinks: flushing and rotation change now, `chain` does not (see above). */
  reconfigure(opts: SinkOptions): void {
    if (this.closed) return;
    if (opts.flushIntervalMs !== this.opts.flushIntervalMs) {
      clearInterval(this.timer);
      this.timer = this.every(opts.flushIntervalMs);
    }
    this.opts = { ...opts, chain: this.opts.chain, clock: this.opts.clock };
    this.file?.setRotation(opts.rotateBytes ?? 0, opts.rotateDaily ?? false);
    if (this.queuedBytes >= opts.flushBytes) this.flush();
  }

  private every(ms: number): NodeJS.Timeout {
    const timer = setInterval(() => this.flush(), ms);
    timer.unref();
    return timer;
  }

  /** Queue one line (without newline). Cheap: no I/O here. */
  write(line: string): void {
    if (this.closed) {
      // A request that outlived its pipeline's writer still gets its line.
      this.writeSync([line]);
      return;
    }
    // Flat while it waits for the flush: the line is built from dozens of pieces, and as a
    // rope every scavenge it lives through would copy them all.
    this.queue.push(flat(line));
    this.queuedBytes += line.length + 1;
    if (this.queuedBytes >= this.opts.flushBytes) this.flush();
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const lines = this.queue;
    this.written += lines.length;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.opts.stdout) process.stdout.write(lines.join('\n') + '\n');
    // The file seals its lines into the hash chain here, in write order, off the request path.
    this.file?.append(lines);
  }

  /** Flush and release the file; later lines are written synchronously. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    live.delete(this);
    await this.file?.close();
  }

  /** Last-chance flush on process exit: only synchronous I/O works there. */
  flushSync(): void {
    if (this.queue.length === 0) return;
    const lines = this.queue;
    this.written += lines.length;
    this.queue = [];
    this.queuedBytes = 0;
    this.writeSync(lines);
  }

  private writeSync(lines: readonly string[]): void {
    if (this.opts.stdout) writeSync(1, lines.join('\n') + '\n');
    this.file?.appendSync(lines);
  }
}

const live = new Set<AuditWriter>();
process.once('exit', () => {
  for (const w of live) w.flushSync();
});

/** How the cluster primary (or this process) creates the one writer of a sink set. */
export const auditWriterKind = defineWriterKind<string, SinkOptions>(import.meta.url, 'auditWriterKind', (opts) => new AuditWriter(opts));

/** Writers by sink set, each with a count of the filter instances using it. */
class WriterPool {
  private readonly writers = new Map<string, { writer: SingleWriter<string, SinkOptions>; refs: number; chain: boolean }>();

  acquire(opts: SinkOptions, env: Pick<PluginEnv, 'singleWriters' | 'log'>): { writer: SingleWriter<string>; release: () => Promise<void> } {
    const key = `${opts.stdout}|${opts.file ?? ''}`;
    let entry = this.writers.get(key);
    if (!entry) {
      entry = { writer: env.singleWriters.open(auditWriterKind, key, opts), refs: 0, chain: opts.chain ?? true };
      this.writers.set(key, entry);
    } else {
      // A reload that kept the sinks: the shared writer takes its new settings.
      entry.writer.reconfigure(opts);
      if (opts.file && (opts.chain ?? true) !== entry.chain) env.log.warn('audit chain setting changed; it applies when the gateway restarts', { file: opts.file, chain: entry.chain, configured: opts.chain ?? true });
    }
    entry.refs++;
    const held = entry;
    let released = false;
    return {
      writer: held.writer,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        this.writers.delete(key);
        await held.writer.close();
      },
    };
  }

  /** Gateway shutdown: flush and close every writer. */
  async close(): Promise<void> {
    const all = [...this.writers.values()];
    this.writers.clear();
    for (const e of all) await e.writer.close();
  }
}

export function writerPool(shared: SharedState): WriterPool {
  return shared.get('audit.writers', () => new WriterPool());
}
