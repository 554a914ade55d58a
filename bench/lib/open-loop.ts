/**
 * The open-loop load generator behind `latencyAtRate`: requests sent at fixed due times
 * over a few keep-alive connections, never held back by the answers to earlier ones (no
 * coordinated omission: a request that waits for a free connection is late, and counted so).
 *
 * Written on raw sockets because the generator shares its core with the mock: undici's
 * client cost ~60 µs of CPU a request there and allocated enough to stall the generator in
 * garbage collection for up to 12 ms at 5,000 req/s, which read as the servers' p99. Here a
 * request is one prebuilt buffer written, and a response is scanned for its end without
 * being parsed into objects (status line, `content-length` or chunked framing).
 */
import net from 'node:net';
import type { Target } from './load.js';

/** What the open loop sends: a target's URL, headers and body. */
export type OpenLoopTarget = Pick<Target, 'url' | 'headers' | 'body'>;

export interface OpenLoopResult {
  /** Each answered request's latency from when it was issued (its due time, or the timer's firing if later), ms. */
  samples: number[];
  /** Non-200 answers, connection errors and requests left unanswered. */
  errors: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** One HTTP/1.1 request as bytes, sent as is on every connection. */
function requestBytes(t: OpenLoopTarget, url: URL): Buffer {
  const body = Buffer.from(t.body);
  const headers = { host: url.host, 'content-type': 'application/json', ...t.headers, 'content-length': String(body.length) };
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * Where the response starting at `buf[0]` ends, or -1 while it is incomplete. `status`
 * receives its status code.
 */
function responseEnd(buf: Buffer, status: { code: number }): number {
  const headEnd = buf.indexOf(CRLF2);
  if (headEnd < 0) return -1;
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  status.code = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = headEnd + 4 + Number(length[1]);
    return buf.length >= end ? end : -1;
  }
  if (!/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) return headEnd + 4; // no body (204, 304)
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return -1;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    if (size === 0) {
      // No trailers from our servers: the last chunk is followed by one empty line.
      return buf.length >= lineEnd + 4 ? lineEnd + 4 : -1;
    }
    at = lineEnd + 2 + size + 2;
    if (buf.length < at) return -1;
  }
}

/** Send `rate` req/s for `seconds` over `connections` keep-alive connections; resolves when all are answered or failed. */
export function openLoop(t: OpenLoopTarget, rate: number, seconds: number, connections = 16): Promise<OpenLoopResult> {
  const url = new URL(t.url);
  const request = requestBytes(t, url);
  const total = Math.round(rate * seconds);
  const samples: number[] = [];
  let errors = 0;
  let sent = 0;
  let settled = 0;
  // Due times waiting for a free connection, oldest first.
  const waiting: number[] = [];
  let waitingHead = 0;

  return new Promise((resolve) => {
    const idle: Conn[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      errors += total - settled; // unanswered by the deadline, or never sent for want of a connection
      for (const c of conns) c.socket.destroy();
      resolve({ samples, errors });
    };
    const settle = (): void => {
      if (++settled === total) finish();
    };
    // Whatever is still unanswered this long after the last due time failed.
    const deadline = setTimeout(finish, seconds * 1000 + 30_000);

    class Conn {
      readonly socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      private buf: Buffer | undefined;
      /** When the request in flight was issued; -1 when none is. */
      private issued = -1;
      private readonly status = { code: 0 };

      constructor() {
        this.socket.on('data', (chunk: Buffer) => this.data(chunk));
        this.socket.on('error', () => this.fail());
        this.socket.on('close', () => this.fail());
      }

      send(issued: number): void {
        this.issued = issued;
        this.socket.write(request);
      }

      private data(chunk: Buffer): void {
        this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
        const end = responseEnd(this.buf, this.status);
        if (end < 0) return;
        this.buf = end < this.buf.length ? this.buf.subarray(end) : undefined;
        if (this.status.code === 200) samples.push(performance.now() - this.issued);
        else errors++;
        this.issued = -1;
        settle();
        this.next();
      }

      /** The next waiting request, or back to the idle list. */
      next(): void {
        if (waitingHead < waiting.length) this.send(waiting[waitingHead++]);
        else idle.push(this);
      }

      private fail(): void {
        if (done) return;
        const i = idle.indexOf(this);
        if (i >= 0) idle.splice(i, 1);
        if (this.issued >= 0) {
          this.issued = -1;
          errors++;
          settle();
        }
      }
    }

    const conns = Array.from({ length: connections }, () => new Conn());
    let opened = 0;
    for (const c of conns) {
      c.socket.once('connect', () => {
        idle.push(c);
        if (++opened === connections) tick();
      });
      c.socket.once('error', () => {
        if (opened < connections) finish(); // a connection that never opened: nothing is measured
      });
    }

    let start = 0;
    const tick = (): void => {
      if (done) return;
      if (start === 0) start = performance.now();
      const now = performance.now();
      // Everything due by now goes out (or queues for a connection); nothing leaves early.
      // Each is timed from now, not its due time: Node's timers fire up to ~1 ms late, and
      // that delay is the generator's. A wait for a free connection is the server's, and
      // counts.
      while (sent < total) {
        const due = start + (sent * 1000) / rate;
        if (due > now) break;
        sent++;
        const c = idle.pop();
        if (c) c.send(now);
        else waiting.push(now);
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / rate - performance.now()));
    };
  });
}
