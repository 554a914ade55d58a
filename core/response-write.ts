/**
 * The bytes that go to the client: a response head (with the request's id, and a stream's
 * head sent ahead of its first event), an error in the route's dialect, and the questions
 * asked of a response (is it an event stream, was it all delivered).
 *
 * Kept apart from the reply logic (core/reply.ts) because these are the only places that
 * call Node's `writeHead`, each stamping the context's status and time to first byte the
 * same way; they close over nothing, so they are plain functions.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Context } from './context.js';
import type { GatewayError } from './errors.js';
import type { GatewayResponse } from './handler.js';
import { flattenHead } from './stream/flat-head.js';
import type { ResponseHead } from './types.js';

export function writeHead(ctx: Context, res: GatewayResponse, head: ResponseHead): void {
  // A refusal or an upstream's early answer while an upload is still arriving.
  if (ctx.upload !== undefined) ctx.upload.leaveUnread();
  ctx.status = head.status;
  ctx.headWrittenAt = performance.now();
  // The gateway's id names the audit line; a provider's own (OpenAI's, which its support
  // asks for) is kept beside it.
  const upstreamId = head.headers['x-request-id'];
  if (upstreamId !== undefined && upstreamId !== ctx.id) head.headers['x-upstream-request-id'] = upstreamId;
  head.headers['x-request-id'] = ctx.id;
  (res as ServerResponse).writeHead(head.status, head.headers);
  // A stream's first event may be seconds away, so its head goes out by itself at the end
  // of this turn of the event loop; when the first bytes are already here they carry it
  // in the same write (one syscall per stream fewer).
  if (ctx.stream) {
    flattenHead(res);
    setImmediate(flushHead, res);
  }
}

export function writeError(ctx: Context, res: GatewayResponse, error: GatewayError): void {
  if (ctx.upload !== undefined) ctx.upload.leaveUnread();
  const rendered = ctx.dialect.renderError(error, ctx.id);
  ctx.status = rendered.status;
  ctx.headWrittenAt = performance.now();
  (res as ServerResponse).writeHead(rendered.status, { ...rendered.headers, 'x-request-id': ctx.id });
  res.end(rendered.body);
}

/**
 * `writeError` on a response whose head Node refused midway, which left part of it behind:
 * HTTP/2 the headers set before the bad one, HTTP/1.1 the status text and a length.
 */
export function writeErrorAfterRefusedHead(ctx: Context, res: GatewayResponse, error: GatewayError): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const rendered = ctx.dialect.renderError(error, ctx.id);
  const body = Buffer.from(rendered.body);
  const headers = { ...rendered.headers, 'content-length': String(body.length), 'x-request-id': ctx.id };
  ctx.status = rendered.status;
  ctx.headWrittenAt = performance.now();
  if ('stream' in res) res.writeHead(rendered.status, headers);
  else res.writeHead(rendered.status, STATUS_CODES[rendered.status] ?? '', headers);
  res.end(body);
}

/** Send a response head no body write has sent yet (a no-op once one has). */
function flushHead(res: GatewayResponse): void {
  if (!res.writableEnded && !res.destroyed) (res as ServerResponse).flushHeaders?.();
}

export function isSse(head: ResponseHead): boolean {
  return String(head.headers['content-type'] ?? '').startsWith('text/event-stream');
}

/**
 * Whether the whole response was handed to the connection. HTTP/2's compatibility response
 * reports `writableFinished` as soon as its stream closes, reset by the client or not, so
 * `writableEnded` (our `end()` was called) must hold too.
 */
export function delivered(res: GatewayResponse): boolean {
  return res.writableEnded && res.writableFinished;
}
