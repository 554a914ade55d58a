/**
 * Moving an upstream body into the client's response: a pushed body (an UpstreamBody, or a
 * Node Readable adapted) is pumped with pause/resume on backpressure; any other async
 * iterable is read by the handler, which waits for `drain` with {@link drained}. A body
 * nobody will read is freed.
 */
import type { Readable } from 'node:stream';
import type { GatewayResponse } from '../handler.js';
import type { BodySink, UpstreamBody } from './upstream-body.js';

/** A body that pushes its chunks to one reader, pauses until `resume()`, and frees its connection on `destroy()`. */
export interface PushedBody {
  attach(sink: BodySink): void;
  resume(): void;
  destroy(): void;
}

/**
 * Stream a pushed body into the response: chunk by chunk as they come, paused on
 * backpressure until `drain`. Rejects with the body's error; when the client goes away
 * while the body waits for `drain`, the body is destroyed (its pooled connection freed)
 * and this resolves. An {@link UpstreamBody} (what `forwardUpstream` answers with) is one;
 * a Node Readable becomes one with {@link pushedReadable}.
 */
export function pump(body: PushedBody, res: GatewayResponse, deliver: (chunk: Uint8Array) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      res.off('drain', onDrain);
      res.off('close', onGone);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => {
      res.off('close', onGone);
      body.resume();
    };
    const onGone = (): void => {
      res.off('drain', onDrain);
      body.destroy();
      settle();
    };
    body.attach({
      data(chunk) {
        if (deliver(chunk) || settled) return true;
        res.once('drain', onDrain);
        res.once('close', onGone);
        return false;
      },
      end: () => settle(),
      error: (err) => settle(err),
    });
  });
}

/**
 * A Node Readable (a plugin's own undici `request()` body) as a {@link PushedBody}: its
 * `data` events, paused when the reader refuses a chunk, as `pipe` does, without an async
 * iterator and a promise per chunk. Closed before its end is an error.
 */
export function pushedReadable(body: Readable): PushedBody {
  return {
    attach(sink) {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        body.off('data', onData);
        body.off('end', onEnd);
        body.off('close', onClose);
        if (err === undefined) sink.end();
        else sink.error(err);
      };
      const onData = (chunk: Uint8Array): void => {
        if (!sink.data(chunk)) body.pause();
      };
      const onEnd = (): void => finish();
      const onClose = (): void => finish(body.errored ?? new Error('upstream body closed before its end'));
      body.on('error', finish); // kept after finishing: a late error must not go unhandled
      body.on('data', onData);
      body.once('end', onEnd);
      body.once('close', onClose);
    },
    resume: () => body.resume(),
    destroy: () => body.destroy(),
  };
}

/** Resolves true once the response can take more, false if the client went away first. */
export function drained(res: GatewayResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Free an upstream body nobody will read, so its pooled connection is not held. */
export function release(body: AsyncIterable<Uint8Array>): void {
  const destroyable = body as { destroy?: () => void };
  if (typeof destroyable.destroy === 'function') destroyable.destroy();
  else void body[Symbol.asyncIterator]().return?.();
}
