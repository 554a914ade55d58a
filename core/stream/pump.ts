/**
 * The kinds of upstream body `BodyDelivery` moves into the client's response: a pushed body
 * (an UpstreamBody, or a Node Readable adapted here) paused and resumed on backpressure;
 * any other async iterable read with {@link drained} between refused writes. A body nobody
 * will read is freed.
 */
import type { Readable } from 'node:stream';
import type { GatewayResponse } from '../handler.js';
import type { BodySink } from './upstream-body.js';

/** A body that pushes its chunks to one reader, pauses until `resume()`, and frees its connection on `destroy()`. */
export interface PushedBody {
  attach(sink: BodySink): void;
  resume(): void;
  destroy(): void;
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
