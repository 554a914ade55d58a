/**
 * The load side of bench/redis-capacity.ts: RESP commands encoded ahead, and connections that
 * write a prebuilt batch, count its replies byte by byte (never parsing them) and write the
 * next, so one Node process outruns one Redis core.
 */
import net from 'node:net';

/** A command as RESP text; every argument here is ASCII, so one byte a character. */
export function encode(argv: readonly (string | number)[]): string {
  let text = `*${argv.length}\r\n`;
  for (const arg of argv) {
    const s = String(arg);
    text += `$${s.length}\r\n${s}\r\n`;
  }
  return text;
}

export function evalsha(sha: string, keys: readonly string[], argv: readonly number[]): string {
  return encode(['EVALSHA', sha, keys.length, ...keys, ...argv]);
}

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const COLON = 0x3a;
const MINUS = 0x2d;

/** Where the counter is within a reply. */
const Read = { Type: 0, Number: 1, Line: 2, ErrorLine: 3, Bulk: 4 } as const;

/**
 * Counts top-level replies in a stream of RESP2 without building them: integers, simple
 * strings, errors, bulk strings and (nested) arrays, split anywhere across chunks. Also counts
 * refusals (an array whose first element is `:0`, the scripts' `allowed`) and keeps the first
 * error reply's text.
 */
export class ReplyCounter {
  replies = 0;
  refused = 0;
  errors = 0;
  firstError: string | undefined;
  private state: (typeof Read)[keyof typeof Read] = Read.Type;
  private type = 0;
  private value = 0;
  private negative = false;
  private errorText = '';
  private bulkLeft = 0;
  /** Elements still due in each open array, innermost last. */
  private readonly open: number[] = [];
  /** The next value is the first element of a top-level array. */
  private atFirst = false;

  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case Read.Type:
          this.begin(b);
          break;
        case Read.Number:
          if (b >= 0x30 && b <= 0x39) this.value = this.value * 10 + (b - 0x30);
          else if (b === MINUS) this.negative = true;
          else if (b === LF) this.endNumber(this.negative ? -this.value : this.value);
          break;
        case Read.Line:
          if (b === LF) this.endValue();
          break;
        case Read.ErrorLine:
          if (b === LF) this.endError();
          else if (b !== CR) this.errorText += String.fromCharCode(b);
          break;
        case Read.Bulk: {
          const skip = Math.min(this.bulkLeft, chunk.length - i);
          this.bulkLeft -= skip;
          i += skip - 1;
          if (this.bulkLeft === 0) this.endValue();
          break;
        }
      }
    }
  }

  private begin(type: number): void {
    this.type = type;
    this.value = 0;
    this.negative = false;
    if (type === STAR || type === DOLLAR || type === COLON) this.state = Read.Number;
    else if (type === MINUS) {
      this.errorText = '-';
      this.state = Read.ErrorLine;
    } else this.state = Read.Line; // `+OK` and the like
  }

  private endNumber(n: number): void {
    if (this.type === STAR) {
      if (n <= 0) return this.endValue(); // empty or null array
      this.open.push(n);
      this.atFirst = this.open.length === 1;
      this.state = Read.Type;
    } else if (this.type === DOLLAR) {
      if (n < 0) return this.endValue(); // null bulk string
      this.bulkLeft = n + 2;
      this.state = Read.Bulk;
    } else {
      if (this.atFirst && n === 0) this.refused++;
      this.endValue();
    }
  }

  private endError(): void {
    this.errors++;
    this.firstError ??= this.errorText;
    this.endValue();
  }

  /** A value is complete: close every array it completes, and count a top-level reply. */
  private endValue(): void {
    this.state = Read.Type;
    this.atFirst = false;
    const open = this.open;
    while (open.length > 0) {
      if (--open[open.length - 1] > 0) return;
      open.pop();
    }
    this.replies++;
  }
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

// ---------------------------------------------------------------------------------------
// The load: closed-loop connections, each writing a prebuilt batch and awaiting its replies.

/** One socket of the load: writes a batch, waits for its `depth` replies, writes the next. */
export class LoadConnection {
  readonly counter = new ReplyCounter();
  /** Why this connection stopped early: an error reply, a socket error, a close. */
  failure: string | undefined;
  private pool: readonly Buffer[] = [];
  private next = 0;
  private depth = 0;
  /** Batches still to send: Infinity while cycling the pool. */
  private left = 0;
  /** The reply count at which the batch in flight is answered. */
  private due = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    socket.on('close', () => this.fail('Redis closed the connection'));
  }

  /** Cycle through `pool` from `first`, until {@link stop}. */
  start(pool: readonly Buffer[], first: number, depth: number): void {
    this.begin(pool, first, depth, Infinity);
  }

  /** Send each of `batches` once; resolves when all are answered. */
  runOnce(batches: readonly Buffer[], depth: number): Promise<void> {
    if (batches.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => (this.idle = resolve));
    this.begin(batches, 0, depth, batches.length);
    return done;
  }

  /** Send no more; resolves once the batch in flight is answered. */
  stop(): Promise<void> {
    this.left = 0;
    if (this.counter.replies >= this.due || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private begin(pool: readonly Buffer[], first: number, depth: number, batches: number): void {
    this.pool = pool;
    this.next = first % pool.length;
    this.depth = depth;
    this.left = batches;
    this.send();
  }

  private send(): void {
    this.left--;
    this.due = this.counter.replies + this.depth;
    this.socket.write(this.pool[this.next]);
    this.next = this.next + 1 === this.pool.length ? 0 : this.next + 1;
  }

  private onData(chunk: Buffer): void {
    this.counter.feed(chunk);
    if (this.counter.firstError !== undefined) return this.fail(`error reply: ${this.counter.firstError}`);
    if (this.counter.replies < this.due) return;
    if (this.left > 0) this.send();
    else this.settle();
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.left = 0;
    this.settle();
  }

  private settle(): void {
    const idle = this.idle;
    this.idle = undefined;
    idle?.();
  }
}

export function throwIfFailed(conns: readonly LoadConnection[], during: string): void {
  const failed = conns.find((c) => c.failure !== undefined);
  if (failed) throw new Error(`${during}: ${failed.failure} (the run stops at the first error)`);
}
