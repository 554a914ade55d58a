/**
 * The cluster primary (`server.workers` > 1): forks one gateway worker per slot, hands
 * them connections (node:cluster's round-robin on Linux; `reusePort` needs Node 22.12+),
 * and owns what must exist once per machine: signals, worker restarts, the single
 * writers, and the aggregation of `/metrics`. It never serves a request itself.
 *
 * SIGTERM/SIGINT: every worker drains (`server.drain_timeout_ms`), hands its last records
 * over, and exits; then the writers flush and the primary exits 0. SIGHUP: forwarded to
 * every worker as a reload (each worker also watches the config file itself).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from '../deps/prom-client.js';
import type { Logger } from '../logger.js';
import type { HeldSignals } from '../signals.js';
import { isGatewayMessage, WORKER_START_FAILED, type PrimaryMessage, type WorkerMessage } from './ipc.js';
import { WriterHost } from './writer-host.js';

export interface PrimaryOptions {
  workers: number;
  /** The workers' drain timeout; the primary waits this long plus a margin before SIGKILL. */
  drainTimeoutMs: number;
  log: Logger;
  /** The process's signals, caught since before the config was read. */
  signals: HeldSignals;
  /** Restart backoff: first delay, doubled per quick crash, capped (default 100 ms … 10 s). */
  restartDelayMs?: { min: number; max: number };
}

/** A worker that lived this long before crashing resets its slot's backoff. */
const STABLE_MS = 10_000;
const KILL_MARGIN_MS = 5_000;

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  crashes: number;
  ready: boolean;
  /** A reload ordered while the worker was still starting: sent once it is ready. */
  reloadWhenReady: boolean;
  restart: NodeJS.Timeout | undefined;
}

/** Run the primary until it has shut down; resolves with the process exit code. */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { log } = opts;
  const backoff = opts.restartDelayMs ?? { min: 100, max: 10_000 };
  const host = new WriterHost(log.child({ component: 'single-writers' }));
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  const restarts = new Counter({ name: 'gateway_cluster_worker_restarts_total', help: 'Workers restarted after they exited unexpectedly', registers: [own] });
  const up = new Gauge({ name: 'gateway_cluster_workers', help: 'Workers currently running', registers: [own] });
  const slots: Slot[] = Array.from({ length: opts.workers }, () => ({ worker: undefined, startedAt: 0, crashes: 0, ready: false, reloadWhenReady: false, restart: undefined }));
  const slotOf = new Map<number, number>();
  let stopping = false;
  let announced = false;
  let exitCode = 0;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const reply = (worker: Worker, message: PrimaryMessage): void => {
    if (worker.isConnected()) worker.send(message);
  };

  const fork = (index: number): void => {
    const slot = slots[index];
    slot.restart = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.ready = false;
    slot.reloadWhenReady = false;
    slotOf.set(worker.id, index);
    up.set(Object.keys(cluster.workers ?? {}).length);
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isGatewayMessage<WorkerMessage>(message)) return;
    switch (message.t) {
      case 'gw:ready': {
        const slot = slots[slotOf.get(worker.id) ?? -1];
        if (slot) slot.ready = true;
        // Told to drain or reload before it could listen for the order: it gets it now.
        if (stopping) return reply(worker, { t: 'gw:drain' });
        if (slot?.reloadWhenReady) {
          slot.reloadWhenReady = false;
          reply(worker, { t: 'gw:reload' });
        }
        if (!announced && slots.every((s) => s.ready)) {
          announced = true;
          log.info('cluster ready', { url: message.url, ...(message.localUrl ? { local_url: message.localUrl } : {}), ...(message.adminUrl ? { admin_url: message.adminUrl } : {}), workers: opts.workers, pid: process.pid });
        }
        return;
      }
      case 'gw:metrics':
        void scrape().then(
          (text) => reply(worker, { t: 'gw:metrics:res', id: message.id, text, contentType: aggregator.contentType }),
          (err: Error) => reply(worker, { t: 'gw:metrics:res', id: message.id, error: err.message }),
        );
        return;
      default: {
        const answer = host.handle(worker.id, message);
        if (message.t === 'gw:w:flush' || message.t === 'gw:w:close') void answer.then((error) => reply(worker, { t: 'gw:ack', id: message.id, ...(error ? { error } : {}) }));
      }
    }
  });

  async function scrape(): Promise<string> {
    // Workers' registries summed by prom-client (each metric's `aggregator`), then the primary's own.
    const workers = await aggregator.clusterMetrics();
    return workers + (await own.metrics());
  }

  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const index = slotOf.get(worker.id);
    slotOf.delete(worker.id);
    host.dropWorker(worker.id);
    up.set(Object.keys(cluster.workers ?? {}).length);
    if (index === undefined) return;
    const slot = slots[index];
    slot.worker = undefined;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (slots.every((s) => s.worker === undefined)) void finishShutdown();
      return;
    }
    if (code === WORKER_START_FAILED && !announced) {
      // A config or listen error at start: every restart would fail the same way.
      log.error('a worker could not start; stopping the cluster', { worker: worker.id, code });
      exitCode = 1;
      stop('worker start failure');
      return;
    }
    slot.crashes = Date.now() - slot.startedAt >= STABLE_MS ? 0 : slot.crashes + 1;
    const delay = Math.min(backoff.max, backoff.min * 2 ** Math.max(0, slot.crashes - 1));
    restarts.inc();
    if (code === WORKER_START_FAILED) {
      // Once serving, the others still run the last config that loaded (an invalid edit
      // changes nothing), so the cluster stays up and this slot retries until the file is valid.
      log.error('a replacement worker could not start (its stderr says why: an invalid config file?); the other workers keep serving; retrying', { worker: worker.id, code, restart_in_ms: delay });
    } else {
      log.warn('worker exited; restarting it', { worker: worker.id, pid: worker.process.pid, code, signal, restart_in_ms: delay });
    }
    slot.restart = setTimeout(() => fork(index), delay);
  });

  let killTimer: NodeJS.Timeout | undefined;
  function stop(reason: string): void {
    if (stopping) return;
    stopping = true;
    log.info('cluster shutting down', { reason, workers: Object.keys(cluster.workers ?? {}).length });
    for (const slot of slots) clearTimeout(slot.restart);
    // A worker still starting is told once it reports ready: before that, nothing in it
    // listens for the order.
    for (const slot of slots) if (slot.worker && slot.ready) reply(slot.worker, { t: 'gw:drain' });
    // A worker stuck past its own drain timeout is cut; its unsent records are lost.
    killTimer = setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) {
        log.warn('worker did not exit in time; killing it', { worker: w?.id });
        w?.process.kill('SIGKILL');
      }
    }, opts.drainTimeoutMs + KILL_MARGIN_MS);
    if (slots.every((s) => s.worker === undefined)) void finishShutdown();
  }

  let finishing = false;
  async function finishShutdown(): Promise<void> {
    if (finishing) return;
    finishing = true;
    clearTimeout(killTimer);
    await host.close().catch((err: unknown) => log.error('closing single writers failed', { err }));
    log.info('cluster stopped', { code: exitCode });
    finish(exitCode);
  }

  opts.signals.handle({
    stop,
    reload: (signal) => {
      log.info('reloading every worker', { signal });
      for (const slot of slots) {
        if (slot.worker && slot.ready) reply(slot.worker, { t: 'gw:reload' });
        else if (slot.worker) slot.reloadWhenReady = true;
      }
    },
  });
  // A stop signal held during start-up has already stopped the cluster: nothing to fork.
  if (stopping) return done;

  log.info('starting cluster', { workers: opts.workers, pid: process.pid });
  for (let i = 0; i < slots.length; i++) fork(i);
  return done;
}
