/**
 * A provider's answer on its way into the client's response, once its head is written:
 * each chunk written, metered and shown to the body observers; a pushed body paused on
 * backpressure until `drain`; an upstream failure mid-body turned into the dialect's error
 * event; and, however it ends, the usage and the observers' end, exactly once.
 *
 * One object per answer and no suspended async function while a pushed body streams: a
 * stream held open for minutes keeps this object, not an async frame with its registers,
 * a promise per level and a closure per listener (`bench/stream-memory.ts`).
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import type { GatewayError } from '../errors.js';
import type { GatewayResponse } from '../handler.js';
import type { UsageMeter } from '../provider-types.js';
import { auditedError, upstreamError } from '../upstream.js';
import { completeUsage, estimable, outputCapOf } from './estimated-usage.js';
import { drained, pushedReadable, release, type PushedBody } from './pump.js';
import { UpstreamBody, type BodySink } from './upstream-body.js';

const EVENT_BREAK = Buffer.from('\n\n');

export class BodyDelivery implements BodySink {
  /** For an SSE body, whether the bytes sent so far end an event: a flag, not the last chunk, which would keep its socket read alive. */
  private atEventEnd = true;
  private ended = false;
  private pushed: PushedBody | undefined = undefined;
  /** Bound once, on the first refused write. */
  private onDrain: (() => void) | undefined = undefined;
  private onGone: (() => void) | undefined = undefined;
  private onEnd: ((failure: unknown) => void) | undefined = undefined;
  /** Set when the delivery's own bookkeeping failed, for an `onEnd` given after the end. */
  private failure: unknown = undefined;

  /**
   * @param sse the head says `text/event-stream`: an error event may need a blank line first
   * @param status the answer's status as the provider gave it
   * @param failed told of every upstream failure mid-body (the gateway counts them)
   */
  constructor(
    private readonly ctx: Context,
    private readonly res: GatewayResponse,
    private readonly sse: boolean,
    private readonly status: number,
    private readonly meter: UsageMeter | undefined,
    private readonly failed: (ctx: Context, error: GatewayError) => void,
  ) {}

  /** A body held whole (or none): written in one go, ended before this returns. */
  whole(body: Uint8Array | null): this {
    try {
      if (body === null) {
        this.res.end();
      } else {
        this.ctx.bytesOut = body.length;
        this.observe(body);
        this.res.end(body);
      }
      this.finish(undefined);
    } catch (err) {
      this.finish(err);
    }
    return this;
  }

  /** Start a streamed body on its way; {@link whenDone} hears when it has ended, failed or the client went away. */
  stream(body: AsyncIterable<Uint8Array>): this {
    const pushed = body instanceof UpstreamBody ? body : body instanceof Readable ? pushedReadable(body) : undefined;
    if (pushed) {
      this.pushed = pushed;
      try {
        pushed.attach(this);
      } catch (err) {
        pushed.destroy();
        this.finish(err);
      }
    } else {
      void this.iterate(body);
    }
    return this;
  }

  /**
   * `onEnd` runs once the delivery has ended (now, if it has), with the failure of the
   * delivery's own bookkeeping (a meter or observer that threw), else undefined.
   */
  whenDone(onEnd: (failure: unknown) => void): void {
    if (this.ended) onEnd(this.failure);
    else this.onEnd = onEnd;
  }

  /** Nothing is delivered (the client left first, or the head could not be written): a streamed body nobody will read is freed. */
  abandon(body: AsyncIterable<Uint8Array> | Uint8Array | null, err?: unknown): this {
    if (body !== null && !(body instanceof Uint8Array)) release(body);
    this.finish(err);
    return this;
  }

  // ── BodySink, for a pushed body ──

  data(chunk: Uint8Array): boolean {
    if (this.ended) return true;
    let flowing: boolean;
    try {
      flowing = this.deliver(chunk);
    } catch (err) {
      // A meter or an observer (a filter's) threw. Called from the body's own callbacks, from
      // attach() or from a 'drain' listener, where a throw would escape: it ends this answer.
      this.pushed!.destroy();
      this.finish(err);
      return true;
    }
    if (flowing) return true;
    this.onDrain ??= () => this.drained();
    this.onGone ??= () => this.gone();
    this.res.once('drain', this.onDrain);
    this.res.once('close', this.onGone);
    return false;
  }

  end(): void {
    this.finish(undefined);
  }

  error(err: Error): void {
    this.finish(err);
  }

  // ──

  private deliver(chunk: Uint8Array): boolean {
    if (this.sse) this.atEventEnd = endsEvent(chunk);
    this.ctx.bytesOut += chunk.length;
    const flowing = (this.res as ServerResponse).write(chunk);
    this.observe(chunk);
    return flowing;
  }

  /** The usage meter and the filters' body observers see every chunk sent. */
  private observe(chunk: Uint8Array): void {
    this.meter?.write(chunk);
    const observers = this.ctx.observers;
    if (observers) for (const o of observers) o.onData(chunk);
  }

  private drained(): void {
    this.res.off('close', this.onGone!);
    this.pushed!.resume();
  }

  /** The client went away while the body waited for `drain`: free the upstream connection. */
  private gone(): void {
    this.res.off('drain', this.onDrain!);
    this.pushed!.destroy();
    this.finish(undefined);
  }

  /** Any other async iterable: read here, waiting for `drain` between refused writes. */
  private async iterate(body: AsyncIterable<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of body) {
        if (!this.deliver(chunk) && !(await drained(this.res))) break;
      }
      this.finish(undefined);
    } catch (err) {
      this.finish(err);
    }
  }

  /**
   * Ends the answer once. A failure of its own bookkeeping (a meter or observer that
   * throws) goes to {@link whenDone}, so the handler still completes the request.
   */
  private finish(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.close(err);
    } catch (e) {
      this.failure = e ?? new Error('delivery failed');
    }
    const onEnd = this.onEnd;
    this.onEnd = undefined;
    onEnd?.(this.failure);
  }

  private close(err: unknown): void {
    const { ctx, res } = this;
    if (this.onDrain) {
      res.off('drain', this.onDrain);
      res.off('close', this.onGone!);
    }
    if (ctx.cancellation.aborted) {
      // Nothing more to say to a client that is gone.
    } else if (err === undefined) {
      if (!res.writableEnded) res.end();
    } else {
      const error = upstreamError(err, ctx.cancellation, 'body');
      // Audit and accounting also get a provider's own words for it; the client gets `error`.
      ctx.error = auditedError(error, err);
      this.failed(ctx, error);
      // A stream gets its dialect's error event; a broken JSON body is cut, never patched.
      const event = ctx.stream ? ctx.dialect.renderStreamError?.(error, ctx.id, ctx) : undefined;
      if (event && !res.writableEnded) res.end(this.sse && !this.atEventEnd ? Buffer.concat([EVENT_BREAK, event]) : event);
      else res.destroy();
    }
    ctx.upstreamEndedAt = performance.now();
    const meter = this.meter;
    if (meter) {
      meter.end();
      ctx.usage = meter.usage;
      ctx.usageEstimated = estimable(ctx.kind, this.status) && completeUsage(ctx.usage, meter, ctx.bytesIn, outputCapOf(ctx));
      if (meter.streamError) ctx.streamError = meter.streamError;
      if (meter.model && !ctx.model) ctx.model = meter.model;
    }
    const observers = ctx.observers;
    if (observers) {
      // Ended by us, not cut: a large body may still be flushing, which does not make it partial.
      const complete = !ctx.cancellation.aborted && !ctx.error && res.writableEnded;
      for (const o of observers) o.onEnd(complete);
    }
  }
}

/** Whether SSE bytes stop at an event boundary; if not, an appended error event needs a break first. */
function endsEvent(chunk: Uint8Array): boolean {
  if (chunk.length === 0) return true;
  const n = chunk.length;
  return chunk[n - 1] === 10 && n >= 2 && (chunk[n - 2] === 10 || (chunk[n - 2] === 13 && n >= 3 && chunk[n - 3] === 10));
}
