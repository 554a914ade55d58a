/**
 * A cluster worker's side of the IPC channel: single writers as batching proxies, the
 * aggregated `/metrics` asked of the primary, and the primary's drain and reload orders.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from '../deps/prom-client.js';
import type { ListenUrls } from '../listen-urls.js';
import type { Logger } from '../logger.js';
import { isGatewayMessage, type PrimaryMessage, type WorkerMessage } from './ipc.js';
import type { SingleWriter, SingleWriters, WriterKind } from './single-writer.js';

/** Records wait at most this long in a worker before they are sent to the primary. */
const BATCH_MS = 10;
const BATCH_RECORDS = 512;
/** How long a flush, close or scrape waits for the primary before giving up. */
const REPLY_TIMEOUT_MS = 10_000;

/** What a gateway running as a cluster worker uses instead of process-local facilities. */
export interface WorkerLink {
  /** The cluster worker id (1, 2, …; a restarted worker gets a new one). */
  readonly id: number;
  readonly writers: SingleWriters;
  /** The whole cluster's metrics, aggregated by the primary. */
  scrape(): Promise<{ text: string; contentType: string }>;
  /** Tell the primary this worker listens, and where. */
  ready(urls: ListenUrls, adminUrl?: string): void;
  /** The primary asks for a drain (shutdown) or a reload. */
  on(event: 'drain' | 'reload', fn: () => void): void;
}

type Reply = Extract<PrimaryMessage, { id: number }>;

export function connectWorker(registry: Registry, log: Logger): WorkerLink {
  if (!cluster.isWorker || !process.send) throw new Error('connectWorker() runs only in a cluster worker');
  // Constructing one installs prom-client's listener that answers the primary's scrape.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);

  const pending = new Map<number, (reply: Reply) => void>();
  const handlers = { drain: [] as Array<() => void>, reload: [] as Array<() => void> };
  let nextId = 1;

  const send = (message: WorkerMessage): boolean => {
    if (!process.connected) return false;
    process.send!(message);
    return true;
  };

  const request = (message: WorkerMessage & { id: number }): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (!send(message)) return reject(new Error('the cluster primary is gone'));
      const timer = setTimeout(() => {
        pending.delete(message.id);
        reject(new Error(`no answer from the cluster primary within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      pending.set(message.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });

  process.on('message', (message: unknown) => {
    if (!isGatewayMessage<PrimaryMessage>(message)) return;
    if (message.t === 'gw:drain' || message.t === 'gw:reload') {
      for (const fn of handlers[message.t === 'gw:drain' ? 'drain' : 'reload']) fn();
      return;
    }
    const done = pending.get(message.id);
    pending.delete(message.id);
    done?.(message);
  });

  const writers: SingleWriters = {
    remote: true,
    open<R, O>(kind: WriterKind<R, O>, key: string, options: O): SingleWriter<R, O> {
      const h = nextId++;
      send({ t: 'gw:w:open', h, module: kind.module, exportName: kind.exportName, key, options });
      let batch: R[] = [];
      let timer: NodeJS.Timeout | undefined;
      let closed = false;
      const ship = (): void => {
        clearTimeout(timer);
        timer = undefined;
        if (batch.length === 0) return;
        const records = batch;
        batch = [];
        if (!send({ t: 'gw:w:write', h, records })) log.error('cluster primary gone; records lost', { key, records: records.length });
      };
      const settle = async (t: 'gw:w:flush' | 'gw:w:close'): Promise<void> => {
        ship();
        const reply = await request({ t, h, id: nextId++ }).catch((err: Error) => ({ error: err.message }));
        if ('error' in reply && reply.error) log.warn('single writer: primary did not confirm', { key, op: t, err: reply.error });
      };
      return {
        write(record) {
          // A request that outlived its pipeline still gets its record to the primary.
          batch.push(record);
          if (batch.length >= BATCH_RECORDS) ship();
          else if (!timer) timer = setTimeout(ship, BATCH_MS);
        },
        reconfigure(options) {
          // A closed handle's message would reopen the writer on the primary just to reconfigure it.
          if (closed) return;
          // Records queued so far reach the writer before its new options do.
          ship();
          send({ t: 'gw:w:options', h, options });
        },
        flush: () => settle('gw:w:flush'),
        close() {
          if (closed) return Promise.resolve();
          closed = true;
          return settle('gw:w:close');
        },
      };
    },
  };

  return {
    id: cluster.worker!.id,
    writers,
    async scrape() {
      const reply = await request({ t: 'gw:metrics', id: nextId++ });
      if (reply.t !== 'gw:metrics:res' || reply.error !== undefined || reply.text === undefined) throw new Error(`cluster metrics: ${(reply as { error?: string }).error ?? 'no answer'}`);
      return { text: reply.text, contentType: reply.contentType ?? 'text/plain; version=0.0.4; charset=utf-8' };
    },
    ready(urls, adminUrl) {
      send({ t: 'gw:ready', url: urls.url, ...(urls.local_url ? { localUrl: urls.local_url } : {}), ...(adminUrl ? { adminUrl } : {}) });
    },
    on(event, fn) {
      handlers[event].push(fn);
    },
  };
}
