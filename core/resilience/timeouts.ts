/**
 * Timers for one upstream attempt. The attempt gets its own abort signal (the client's,
 * joined with the gateway's timers), which the provider passes to its upstream call, so
 * an expiry cancels the upstream request instead of merely ceasing to wait for it. Each
 * phase expires with its own error code, so audit and metrics can tell them apart.
 */
import { SignalCancellation } from '../abort.js';
import { GatewayError } from '../errors.js';
import type { UpstreamProgress } from '../types.js';
import { upstreamError } from '../upstream.js';
import { GeneratedBody } from '../stream/generated-body.js';

/** Which timer fired. */
export type TimeoutPhase = 'connect' | 'headers' | 'idle' | 'total';

const CODES: Readonly<Record<TimeoutPhase, string>> = {
  connect: 'GW_ERR_UPSTREAM_CONNECT_TIMEOUT',
  headers: 'GW_ERR_UPSTREAM_HEADERS_TIMEOUT',
  idle: 'GW_ERR_UPSTREAM_IDLE_TIMEOUT',
  total: 'GW_ERR_UPSTREAM_TOTAL_TIMEOUT',
};
const PHASE_OF_CODE = new Map(Object.entries(CODES).map(([phase, code]) => [code, phase as TimeoutPhase]));

// The pool's own timers (undici) report these codes; they are the same phases.
const POOL_TIMEOUTS: Readonly<Record<string, TimeoutPhase>> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  ETIMEDOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'idle',
};

export function timeoutError(phase: TimeoutPhase, ms?: number): GatewayError {
  const base = new GatewayError(CODES[phase]).message;
  return new GatewayError(CODES[phase], ms === undefined ? base : `${base} (${ms} ms)`);
}

/** The phase a timeout error stands for, if it is one. */
export function timeoutPhase(err: GatewayError): TimeoutPhase | undefined {
  return PHASE_OF_CODE.get(err.code);
}

/** A generic upstream timeout from the pool, re-coded by phase; other errors unchanged. */
export function byPhase(err: GatewayError): GatewayError {
  if (err.code !== 'GW_ERR_UPSTREAM_TIMEOUT') return err;
  const cause = (err.cause as { code?: unknown } | undefined)?.code;
  const phase = typeof cause === 'string' ? POOL_TIMEOUTS[cause] : undefined;
  return phase ? new GatewayError(CODES[phase], undefined, { cause: err.cause }) : err;
}

/** The request's overall deadline (`total_ms`), shared by its attempts. */
export class Deadline {
  private readonly at: number;
  constructor(readonly totalMs: number) {
    this.at = totalMs > 0 ? performance.now() + totalMs : Infinity;
  }
  remaining(): number {
    return this.at - performance.now();
  }
}

export class AttemptTimer {
  readonly signal: AbortSignal;
  /** `signal` for the provider's upstream call, hearing its progress while the call runs. */
  readonly cancellation: AttemptCancellation;
  /** Set once a timer fired: the error the attempt ends with. */
  expired: GatewayError | undefined;
  private readonly controller = new AbortController();
  private readonly expiry: Promise<never>;
  private reject!: (err: GatewayError) => void;
  private phaseTimer: NodeJS.Timeout | undefined;
  private readonly totalTimer: NodeJS.Timeout | undefined;
  /** The provider's call is running: the upstream's progress moves the phase timer. */
  private watching = true;
  /** Counts arms and disarms: a phase timer that fired expires only if it is still the current one. */
  private phase = 0;

  constructor(
    client: AbortSignal,
    deadline: Deadline,
    private readonly idleMs = 0,
  ) {
    this.signal = AbortSignal.any([client, this.controller.signal]);
    this.cancellation = new AttemptCancellation(this);
    this.expiry = new Promise<never>((_, reject) => (this.reject = reject));
    this.expiry.catch(() => {}); // observed through race(); never an unhandled rejection
    const left = deadline.remaining();
    if (left !== Infinity) this.totalTimer = setTimeout(() => this.expire('total', deadline.totalMs), Math.max(0, left));
  }

  /** Run a phase timer (`headers` or `idle`), replacing the previous one; 0 disarms. */
  arm(phase: 'headers' | 'idle', ms: number): void {
    clearTimeout(this.phaseTimer);
    this.phaseTimer = ms > 0 ? setTimeout(phaseTimerFired, ms, this, phase, ms, ++this.phase) : undefined;
  }

  disarm(): void {
    clearTimeout(this.phaseTimer);
    this.phaseTimer = undefined;
    this.phase++;
  }

  /** A phase timer fired and the I/O already waiting has been read: expire unless that answered it. */
  expireIfCurrent(phase: 'headers' | 'idle', ms: number, armed: number): void {
    if (armed === this.phase) this.expire(phase, ms);
  }

  /**
   * The upstream call's progress while the provider's call runs: the head ends the headers
   * phase; a body the provider reads before it answers is timed as idle from chunk to chunk,
   * and not at all once it has ended (translating it is the gateway's time, not the upstream's).
   */
  progress(event: UpstreamProgress): void {
    if (!this.watching || this.expired) return;
    if (event === 'end') this.disarm();
    else this.arm('idle', this.idleMs);
  }

  /** The provider's call returned: a body it hands back is timed by {@link timedBody} from here. */
  stopWatching(): void {
    this.watching = false;
  }

  /** `p`, or the expiry error as soon as a timer fires. */
  race<T>(p: Promise<T>): Promise<T> {
    return this.expired ? Promise.reject(this.expired) : Promise.race([p, this.expiry]);
  }

  /** The error an attempt failed with, as the client should see it: a timer's expiry wins over the abort it caused. */
  explain(err: GatewayError): GatewayError {
    return this.expired ?? byPhase(err);
  }

  dispose(): void {
    clearTimeout(this.phaseTimer);
    clearTimeout(this.totalTimer);
  }

  private expire(phase: TimeoutPhase, ms: number): void {
    if (this.expired) return;
    this.expired = timeoutError(phase, ms);
    this.dispose();
    this.controller.abort(this.expired);
    this.reject(this.expired);
  }
}

/**
 * Timers run before the I/O of the same event-loop turn: after the process stalled (a long
 * GC, a starved CPU) past `ms`, the timer would fire with the upstream's bytes already
 * waiting to be read, and blame the gateway's own pause on the upstream. So it looks again
 * after that turn's I/O (setImmediate runs after the poll phase).
 */
function phaseTimerFired(timer: AttemptTimer, phase: 'headers' | 'idle', ms: number, armed: number): void {
  setImmediate(expireIfCurrent, timer, phase, ms, armed);
}

function expireIfCurrent(timer: AttemptTimer, phase: 'headers' | 'idle', ms: number, armed: number): void {
  timer.expireIfCurrent(phase, ms, armed);
}

/** An attempt's signal as a {@link Cancellation} that tells the timer of the upstream call's progress. */
class AttemptCancellation extends SignalCancellation {
  constructor(private readonly timer: AttemptTimer) {
    super(timer.signal);
  }

  upstreamProgress(event: UpstreamProgress): void {
    this.timer.progress(event);
  }
}

/**
 * The response body with the idle timer running only while waiting on the upstream (a
 * slow client is not the upstream's silence), and `done` called exactly once when the
 * body ends, fails or is dropped.
 */
export function timedBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  timer: AttemptTimer,
  idleMs: number,
  done: (error: GatewayError | undefined) => void,
): AsyncIterable<Uint8Array> & { destroy: () => void } {
  let finished = false;
  const finish = (error: GatewayError | undefined): void => {
    if (finished) return;
    finished = true;
    timer.dispose();
    done(error);
  };
  return new GeneratedBody(timed(body, body[Symbol.asyncIterator](), timer, idleMs, finish), () => {
    body.destroy?.();
    finish(undefined);
  });
}

async function* timed(
  body: { destroy?: () => void },
  iterator: AsyncIterator<Uint8Array>,
  timer: AttemptTimer,
  idleMs: number,
  finish: (error: GatewayError | undefined) => void,
): AsyncGenerator<Uint8Array> {
  let failure: GatewayError | undefined;
  let ended = false;
  try {
    for (;;) {
      timer.arm('idle', idleMs);
      const next = await timer.race(iterator.next());
      timer.disarm();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } catch (err) {
    failure = timer.explain(upstreamError(err, undefined, 'body'));
    throw failure;
  } finally {
    // Left early (failure, expiry, client gone): free the upstream connection now.
    if (!ended) {
      body.destroy?.();
      void iterator.return?.()?.catch(() => {});
    }
    finish(failure);
  }
}
