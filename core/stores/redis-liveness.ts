/**
 * Telling a dead connection from a slow Redis. A single Redis's connection can stop carrying
 * anything with no reset to say so — its host powered off, a NAT or load balancer forgot the
 * flow, a failover moved the endpoint's address — and the kernel keeps it open through many
 * minutes of retransmits, while every call waits out `timeout_ms` and the store reads as up.
 * A stalled Redis (a long fork, CLIENT PAUSE, a slow script) looks the same from here, but
 * its connection must be kept: what it runs once it catches up is handed back through the
 * late replies.
 *
 * So when a call times out and nothing at all has come back on the connection since it was
 * sent, a probe asks: a new connection with the same settings, up to its ready check.
 * Ready means Redis answers others but not us, so our flow is dead; no connection at all
 * means the host is gone. Either way the store drops its connection (calls then fail at once
 * while it reconnects). A probe that connects but is not answered in time, or is answered
 * with an error (BUSY, LOADING), finds a stalled Redis: the connection is kept.
 */
import type { Redis } from 'ioredis';
import { singleRedisOptions, type RedisConnection } from './redis-client.js';

export type ProbeResult = 'answers' | 'unreachable' | 'stalled';

/**
 * Whether the Redis `connection` leads to answers a new connection within `deadlineMs` (see
 * the file's comment): the store's own settings, asking the sentinels too when it has them,
 * but a single attempt.
 */
export function probeRedis(ioredis: typeof import('ioredis'), connection: RedisConnection, deadlineMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const once = { connectTimeout: deadlineMs, retryStrategy: () => null, sentinelRetryStrategy: () => null, failoverDetector: false, reconnectOnError: null };
    const client: Redis = new ioredis.Redis(connection.url, { ...singleRedisOptions(connection), ...once });
    let connected = false;
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      client.disconnect();
      resolve(result);
    };
    // Connected but not ready by the deadline: Redis (or its AUTH, its ready check) is not answering.
    const deadline = setTimeout(() => settle(connected ? 'stalled' : 'unreachable'), deadlineMs);
    client.on('connect', () => (connected = true));
    client.on('error', () => undefined); // the outcome is read from connect(), not logged
    client.connect().then(
      () => settle('answers'),
      (err: unknown) => settle((err as Error)?.name === 'ReplyError' ? 'stalled' : 'unreachable'),
    );
  });
}

/**
 * Watches one connection for silence. The store counts every reply ({@link replied}) and
 * tells it when a call timed out, with the count at the call's send; at most one probe runs
 * at a time, and after one finds a stalled Redis the next waits `intervalMs`. A probe that
 * finds Redis answering is trusted only if the connection stays silent `graceMs` longer: a
 * stall that ends while the probe waits frees both connections at once, and the probe's
 * answer may be read before the replies queued on ours.
 */
export class SilenceCheck {
  /** Replies (or failures) read off the connection: their count moving is all that matters. */
  replies = 0;
  private probing = false;
  private quietUntil = 0;

  constructor(
    private readonly probe: () => Promise<ProbeResult>,
    private readonly dead: (result: Exclude<ProbeResult, 'stalled'>) => void,
    private readonly intervalMs: number,
    private readonly graceMs: number,
  ) {}

  replied(): void {
    this.replies++;
  }

  /** A call sent when {@link replies} read `repliesAtSend` timed out. */
  timedOut(repliesAtSend: number): void {
    if (this.replies !== repliesAtSend || this.probing || performance.now() < this.quietUntil) return;
    this.probing = true;
    const repliesAtProbe = this.replies;
    // Anything read meanwhile proves the connection alive (a gateway whose own event loop was
    // blocked fires its timers before it reads replies that had long arrived, too).
    const alive = (): boolean => this.replies !== repliesAtProbe;
    void this.probe().then((result) => {
      if (result === 'stalled' || alive()) return this.rest();
      setTimeout(() => {
        if (alive()) return this.rest();
        this.probing = false;
        this.dead(result);
      }, this.graceMs).unref();
    });
  }

  private rest(): void {
    this.probing = false;
    this.quietUntil = performance.now() + this.intervalMs;
  }
}
