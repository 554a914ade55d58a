/**
 * Moving an upstream body into the client's response: a Node Readable (undici's) is pumped
 * by its events with pause/resume on backpressure; any other async iterable is read by the
 * handler, which waits for `drain` with {@link drained}. A body nobody will read is freed.
 */
import type { Readable } from 'node:stream';
import type { GatewayResponse } from '../handler.js';
import type { UpstreamBody } from './upstream-body.js';

/**
 * Stream a Node Readable (undici's response body) into the response: `data` events and
 * pause/resume on backpressure, as `pipe` does, without an async iterator and a promise
 * per chunk. Rejects with the body's error; when the client goes away while the body
 * waits for `drain`, the body is destroyed (its pooled connection freed) and this resolves.
 */
export function pump(body: Readable, res: GatewayResponse, deliver: (chunk: Uint8Array) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      res.off('drain', onDrain);
      res.off('close', onGone);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Uint8Array): void => {
      if (deliver(chunk) || settled) return;
      body.pause();
      res.once('drain', onDrain);
      res.once('close', onGone);
    };
    const onDrain = (): void => {
      res.off('close', onGone);
      body.resume();
    };
    const onGone = (): void => {
      body.destroy();
      settle();
    };
    const onEnd = (): void => settle();
    // Closed before its end: destroyed, with or without an error.
    const onClose = (): void => settle(body.errored ?? new Error('upstream body closed before its end'));
    body.on('error', settle); // kept after settling: a late error must not go unhandled
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
  });
}

/**
 * Stream an {@link UpstreamBody} (what `forwardUpstream` answers with) into the response:
 * pushed chunk by chunk from undici's parser, paused on backpressure until `drain`. Same
 * contract as {@link pump}: rejects with the body's error; resolves when the client goes
 * away while waiting (the body is destroyed, its connection freed).
 */
export function pumpUpstream(body: UpstreamBody, res: GatewayResponse, deliver: (chunk: Uint8Array) => boolean): Promise<void> {
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
