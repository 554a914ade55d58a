/**
 * Writers that must exist once per machine, whatever the number of processes: an
 * append-only file (two processes appending would interleave partial lines), an embedded
 * database with one writer, a hash chain whose next link depends on the previous line.
 *
 * A plugin names its writer with a {@link WriterKind} (the module and export that create
 * it, so the cluster primary can import the same factory) and opens it through
 * `env.singleWriters.open(kind, key, options)`. In a single process that creates the real
 * writer here. In a cluster worker it returns a proxy that batches records and sends them
 * over IPC to the primary, which holds the one real writer per kind and key.
 */
import type { Logger } from '../logger.js';

/** What a single writer does with records; the real writer, wherever it runs. */
export interface RecordWriter<R, O = unknown> {
  /** Queue one record; cheap, no I/O on the caller's path. */
  write(record: R): void;
  /** Push queued records to their sink. */
  flush?(): void | Promise<void>;
  /** Take the options of a later open of the same key (a reload); without it, the first open's options stay. */
  reconfigure?(options: O): void;
  /** Flush and release the sink. */
  close(): Promise<void>;
}

/** What a writer's factory is given besides its options. */
export interface WriterHostEnv {
  readonly log: Logger;
}

/**
 * A writer factory the cluster primary can find again: `module` is the `import.meta.url`
 * of the module that exports this object as `exportName`. Options and records cross IPC,
 * so both must survive `JSON.stringify`.
 * @example
 * export const fileSink = defineWriterKind<string, { file: string }>(import.meta.url, 'fileSink', (o) => new FileSink(o.file));
 */
export interface WriterKind<R, O> {
  readonly module: string;
  readonly exportName: string;
  create(options: O, host: WriterHostEnv): RecordWriter<R, O>;
}

/** Kinds defined in this process, so the primary finds one it already loaded without importing its module again. */
const defined = new Map<string, WriterKind<unknown, unknown>>();

export function defineWriterKind<R, O>(module: string, exportName: string, create: (options: O, host: WriterHostEnv) => RecordWriter<R, O>): WriterKind<R, O> {
  const kind = Object.freeze({ module, exportName, create });
  defined.set(`${module}#${exportName}`, kind as WriterKind<unknown, unknown>);
  return kind;
}

/**
 * The kind defined here under `module` and `exportName`, if its module was loaded. In the
 * bundled gateway the module URL names the tsc file, which importing would load a second
 * time beside the bundle.
 */
export function definedWriterKind(module: string, exportName: string): WriterKind<unknown, unknown> | undefined {
  return defined.get(`${module}#${exportName}`);
}

/** A writer opened through {@link SingleWriters}: local or a proxy to the primary's. */
export interface SingleWriter<R, O = unknown> {
  write(record: R): void;
  /** Hand the real writer new options for the same key (a reload); ignored by a writer without `reconfigure`. */
  reconfigure(options: O): void;
  /** Resolves once queued records reached the real writer and it flushed. */
  flush(): Promise<void>;
  /** Flush, then release this handle; the real writer closes when its last handle does. */
  close(): Promise<void>;
}

/** `env.singleWriters`: opens single writers for this process's role. */
export interface SingleWriters {
  /** True in a cluster worker: the real writers run in the primary, reached over IPC. */
  readonly remote: boolean;
  /**
   * Open the writer for `kind` and `key` (the same key must mean the same options: the
   * first open's options win, until `reconfigure`). Every open is matched by one `close()`.
   */
  open<R, O>(kind: WriterKind<R, O>, key: string, options: O): SingleWriter<R, O>;
}

/** The single-process case: every open creates the real writer here. */
export function localWriters(log: Logger): SingleWriters {
  return {
    remote: false,
    open<R, O>(kind: WriterKind<R, O>, _key: string, options: O): SingleWriter<R, O> {
      const writer = kind.create(options, { log });
      return {
        write: (record) => writer.write(record),
        reconfigure: (o) => writer.reconfigure?.(o),
        flush: async () => void (await writer.flush?.()),
        close: () => writer.close(),
      };
    },
  };
}
