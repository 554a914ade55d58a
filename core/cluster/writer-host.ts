/**
 * The cluster primary's single writers: one real writer per kind and key, created from
 * the factory the workers name, fed by their batches in arrival order, reference-counted
 * by the workers' open handles. A worker that dies drops its handles without closing the
 * writer, so its replacement reopens the same one; every writer closes (flushes) when the
 * primary shuts down.
 */
import { dynamicImport } from '../dynamic-import.js';
import type { Logger } from '../logger.js';
import type { WorkerMessage } from './ipc.js';
import { definedWriterKind, type RecordWriter, type WriterKind } from './single-writer.js';

interface Entry {
  writer: Promise<RecordWriter<unknown> | undefined>;
  /** Serializes every operation on the writer, so batches, flushes and the close keep their order. */
  queue: Promise<void>;
  refs: number;
}

interface Handle {
  id: string;
  open: Extract<WorkerMessage, { t: 'gw:w:open' }>;
  live: boolean;
}

export class WriterHost {
  private readonly entries = new Map<string, Entry>();
  /** Handles by worker id, then by the worker's handle number. */
  private readonly handles = new Map<number, Map<number, Handle>>();

  constructor(private readonly log: Logger) {}

  /** Handle one writer message; resolves with the error text to acknowledge, if any. */
  handle(worker: number, message: Extract<WorkerMessage, { t: `gw:w:${string}` }>): Promise<string | undefined> {
    if (message.t === 'gw:w:open') {
      const id = `${message.module}#${message.exportName}|${message.key}`;
      let byWorker = this.handles.get(worker);
      if (!byWorker) this.handles.set(worker, (byWorker = new Map()));
      byWorker.set(message.h, { id, open: message, live: true });
      this.entry(id, message).refs++;
      return Promise.resolve(undefined);
    }
    const handle = this.handles.get(worker)?.get(message.h);
    if (!handle) return Promise.resolve(`unknown writer handle ${message.h}`);
    // Records written after a handle closed (a request that outlived its pipeline) reopen the writer.
    const entry = this.entry(handle.id, handle.open);
    switch (message.t) {
      case 'gw:w:write':
        return this.then(entry, handle.id, (w) => {
          for (const record of message.records) w.write(record);
        });
      case 'gw:w:options':
        // Kept on the handle too: a writer this handle reopens later starts with them.
        handle.open = { ...handle.open, options: message.options };
        return this.then(entry, handle.id, (w) => w.reconfigure?.(message.options));
      case 'gw:w:flush':
        return this.then(entry, handle.id, (w) => w.flush?.());
      case 'gw:w:close': {
        if (!handle.live) return Promise.resolve(undefined);
        handle.live = false;
        if (--entry.refs > 0) return this.then(entry, handle.id, (w) => w.flush?.());
        return this.closeEntry(handle.id, entry);
      }
    }
    return Promise.resolve(undefined);
  }

  /** A worker exited: forget its handles, keep the writers for the worker that replaces it. */
  dropWorker(worker: number): void {
    for (const handle of this.handles.get(worker)?.values() ?? []) {
      const entry = this.entries.get(handle.id);
      if (handle.live && entry) entry.refs--;
    }
    this.handles.delete(worker);
  }

  /** Shutdown: flush and close every writer. */
  async close(): Promise<void> {
    await Promise.all([...this.entries].map(([id, entry]) => this.closeEntry(id, entry)));
  }

  private entry(id: string, open: Handle['open']): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      const created = this.create(open).catch((err: unknown) => {
        this.log.error('cannot open single writer; its records are dropped', { writer: id, err });
        return undefined;
      });
      entry = { writer: created, queue: Promise.resolve(), refs: 0 };
      this.entries.set(id, entry);
    }
    return entry;
  }

  private async create(open: Handle['open']): Promise<RecordWriter<unknown>> {
    const kind = definedWriterKind(open.module, open.exportName) ?? (((await dynamicImport(open.module)) as Record<string, unknown>)[open.exportName] as WriterKind<unknown, unknown> | undefined);
    if (typeof kind?.create !== 'function') throw new Error(`${open.module} has no writer kind "${open.exportName}"`);
    return kind.create(open.options, { log: this.log.child({ writer: open.key }) });
  }

  private then(entry: Entry, id: string, op: (w: RecordWriter<unknown>) => unknown): Promise<string | undefined> {
    const result = entry.queue
      .then(() => entry.writer)
      .then(async (w) => {
        if (w) await op(w);
      });
    entry.queue = result.catch(() => undefined);
    return result.then(
      () => undefined,
      (err: unknown) => {
        this.log.error('single writer failed', { writer: id, err });
        return (err as Error).message ?? String(err);
      },
    );
  }

  private closeEntry(id: string, entry: Entry): Promise<string | undefined> {
    this.entries.delete(id);
    return this.then(entry, id, (w) => w.close());
  }
}
