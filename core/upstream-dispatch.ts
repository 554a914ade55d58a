/**
 * One upstream request through undici's `dispatch`, answered with the status, headers and
 * an {@link UpstreamBody} fed by the parser. undici's `request()` wraps every response in a
 * Node Readable and an AsyncResource, and adds an event-loop turn to its end; a gateway
 * that mostly forwards bytes needs none of that (a few µs per request).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { cancellationOf } from './abort.js';
import { UpstreamBody, type BodySource } from './stream/upstream-body.js';
import type { Cancellation } from './types.js';

export interface DispatchedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

/** Send `opts` and resolve at the response head; rejects with undici's error (or the signal's reason) before it. */
export function dispatchUpstream(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, signal: Cancellation | AbortSignal): Promise<DispatchedResponse> {
  const cancellation = signal instanceof AbortSignal ? cancellationOf(signal) : signal;
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(opts, new UpstreamCall(cancellation, resolve, reject));
  });
}

const settled = (): void => {};

class UpstreamCall implements Dispatcher.DispatchHandler, BodySource {
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private body: UpstreamBody | undefined = undefined;
  private listening = false;
  /** The signal hears the call's progress (an attempt under resilience timers). */
  private readonly watched: boolean;

  constructor(
    private readonly signal: Cancellation,
    // Dropped once used: undici holds this handler for the whole response, and the resolve
    // function's context holds its promise, which holds the head it was resolved with.
    private resolve: (res: DispatchedResponse) => void,
    private reject: (err: Error) => void,
  ) {
    this.watched = signal.upstreamProgress !== undefined;
    if (!signal.aborted) {
      signal.once('abort', this.onAbort);
      this.listening = true;
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(reasonOf(this.signal));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    releaseRawHeaders(controller);
    if (statusCode < 200) return; // informational: the real head follows
    if (this.watched) this.signal.upstreamProgress!('head');
    this.body = new UpstreamBody(this);
    const resolve = this.resolve;
    this.resolve = this.reject = settled;
    resolve({ status: statusCode, headers, body: this.body });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.watched) this.signal.upstreamProgress!('data');
    if (!this.body!.offer(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.watched) this.signal.upstreamProgress!('end');
    this.stopListening();
    this.body!.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.stopListening();
    if (this.body) return this.body.fail(err);
    const reject = this.reject;
    this.resolve = this.reject = settled;
    reject(err);
  }

  resume(): void {
    this.controller?.resume();
  }

  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  private readonly onAbort = (): void => {
    const reason = reasonOf(this.signal);
    // The reader hears of it now; undici then closes the connection (its error is ignored).
    this.body?.fail(reason);
    // Not started yet: onRequestStart aborts it when the pool gets to it.
    this.controller?.abort(reason);
  };

  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.signal.removeListener('abort', this.onAbort);
  }
}

function reasonOf(signal: Cancellation): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('This operation was aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * undici's controller keeps the head's raw header Buffers (slices of a socket read) for the
 * whole response; we have the parsed headers, and a stream held open for minutes would
 * keep ~2 KB alive for nothing (measured: bench/stream-memory.ts).
 */
function releaseRawHeaders(controller: Dispatcher.DispatchController): void {
  const c = controller as Dispatcher.DispatchController & { rawHeaders?: unknown };
  if (c.rawHeaders) c.rawHeaders = null;
}
