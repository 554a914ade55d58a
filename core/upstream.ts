/**
 * Forwarding one request to an upstream origin through a pool from `env.upstream()`:
 * header hygiene both ways, identity encoding, failures mapped to catalogued gateway
 * errors, and the response body handed back live as undici's parser gives it, never buffered.
 * Provider-neutral: a provider rewrites path and credentials, this does the HTTP.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { sentCredentials, withoutSentCredentials } from './credential-echo.js';
import { GatewayError } from './errors.js';
import { CLIENT_CREDENTIAL_HEADERS, HOP_BY_HOP, withoutHopByHop } from './http-headers.js';
import { redacted } from './logger.js';
import { dispatchUpstream, type DispatchedResponse } from './upstream-dispatch.js';
import type { Cancellation, ProviderResponse, RequestUpload } from './types.js';

export { CLIENT_CREDENTIAL_HEADERS };
const CREDENTIAL_PREFIXES = ['x-amz-'] as const;

/** Headers addressed to the gateway itself (`x-gateway-cache`, …): never forwarded. */
const GATEWAY_PREFIX = 'x-gateway-';

/** Headers the upstream connection owns: undici sets host and length, and it refuses `expect`. */
const CONNECTION_OWNED: ReadonlySet<string> = new Set(['host', 'content-length', 'expect', 'accept-encoding']);

/** Every name the last guard removes. */
const NEVER_SENT: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...CONNECTION_OWNED]);

/** Whether a (lower-case) request header name carries a client credential. */
export function isCredentialHeader(name: string): boolean {
  if (CLIENT_CREDENTIAL_HEADERS.has(name)) return true;
  for (const prefix of CREDENTIAL_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/**
 * What proxies in front of the gateway (or the client itself) say about the client's
 * address and the URL it used: workspace-internal addresses and host names that are no
 * provider's business. The gateway may read them (the network filter, the dashboard); it
 * never passes them on.
 */
export const CLIENT_ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
]);

/** Headers never forwarded on any route: connection-owned, credentials, client addresses, the gateway's own. */
function notForwarded(name: string): boolean {
  return CONNECTION_OWNED.has(name) || isCredentialHeader(name) || CLIENT_ADDRESS_HEADERS.has(name) || name.startsWith(GATEWAY_PREFIX);
}

/**
 * The client's request headers as a starting point for the upstream request: without
 * hop-by-hop, pseudo, connection-owned, credential and client-address headers, and without `drop`.
 * The provider then adds its own credentials.
 * @example
 * const headers = upstreamRequestHeaders(ctx.headers, new Set(['x-workspace-id']));
 * headers['x-api-key'] = config.api_key;
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, drop?: ReadonlySet<string>): Record<string, string | string[]> {
  return withoutHopByHop(incoming, notForwarded, drop);
}

/** One request to forward. */
export interface UpstreamRequest {
  method: string;
  /** Origin-relative path with its query string, already checked by the provider. */
  path: string;
  /** Final request headers (see {@link upstreamRequestHeaders}); hop-by-hop ones are removed again here, in place. */
  headers: Record<string, string | string[]>;
  /** Raw body bytes, forwarded as they are; or a file upload (`ctx.upload`), streamed as it arrives. */
  body: Uint8Array | RequestUpload | null;
  /** `ctx.cancellation` (cheapest) or any AbortSignal: the upstream request is cancelled when it fires. */
  signal: Cancellation | AbortSignal;
  /**
   * The answer streams (`ctx.stream`) and may be held open for minutes: a body from 4 KiB
   * on then goes to undici as one it lets go of once written (see HANDED_OVER_FROM).
   */
  stream?: boolean;
}

const BODILESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/**
 * undici keeps a Buffer body on its request until the response has ended — a stream's
 * whole life, minutes for an agent's turn, and a coding agent's prompt is often 100 KB or
 * more. Bodies from these sizes on go as a one-shot iterable instead, which undici lets go
 * of once written. Its iterable path is dearer than a Buffer's: an async writer, listeners
 * added to the socket and removed, promise hops, more garbage. A few µs of CPU per request
 * (1 KB streams passed through: 183.0 → 181.0 µs, `compare.ts STREAM=1`, P=3), and a
 * burst's slowest first byte came ~3 ms later (`burst-ttfb.ts`, eight alternating pairs,
 * the Buffer ahead in all eight). So a stream's body under 4 KiB stays a Buffer (at most
 * 4 KiB held per stream: 1,000 streams, 4 MB), a short answer's under 16 KiB (held for
 * milliseconds).
 */
const HANDED_OVER_FROM = 16 * 1024;
const STREAM_HANDED_OVER_FROM = 4 * 1024;

/** An iterable that gives `bytes` once and forgets them as it does. */
function handedOver(bytes: Uint8Array): Iterable<Uint8Array> {
  let held: Uint8Array | undefined = bytes;
  const iterator: Iterator<Uint8Array> = {
    next(): IteratorResult<Uint8Array> {
      const value = held;
      held = undefined;
      return value ? { value, done: false } : { value: undefined, done: true };
    },
  };
  return { [Symbol.iterator]: () => iterator };
}

/**
 * Send `req` through `dispatcher` and answer with the upstream's status, headers and
 * live body (an {@link UpstreamBody}: an async iterable with `destroy()`). Throws a {@link GatewayError}: `GW_ERR_UPSTREAM_UNREACHABLE` (502),
 * `GW_ERR_UPSTREAM_TIMEOUT` (504), `GW_ERR_UPSTREAM_PROTOCOL` (502) or, when `signal`
 * fired, `GW_ERR_CLIENT_ABORT`. Errors while the body streams are mapped by the reader with {@link upstreamError}.
 * @example
 * const res = await forwardUpstream(env.upstream('https://api.example.com'), {
 *   method: ctx.method, path: '/v1/messages', headers, body: ctx.body, signal: ctx.cancellation,
 * });
 */
export async function forwardUpstream(dispatcher: Dispatcher, req: UpstreamRequest): Promise<ProviderResponse> {
  // Providers build headers with upstreamRequestHeaders; this is the last guard, in place.
  const headers = req.headers;
  // The request's few headers walked, not the fifteen names asked after with `in` (a
  // megamorphic lookup each); deleting only what is there, as a delete turns the object
  // into a slow dictionary.
  for (const name in headers) if (NEVER_SENT.has(name)) delete headers[name];
  // Usage is read from the bytes, so they must not arrive compressed.
  headers['accept-encoding'] = 'identity';
  const sent = req.body;
  let bytes: Uint8Array | null = null;
  let body: Dispatcher.DispatchOptions['body'] = null;
  if (sent !== null && !(sent instanceof Uint8Array)) {
    // An upload: undici pulls it as it writes, so the socket's flow control reaches the client.
    // With the client's length the upstream gets a plain body; undici holds it to that length.
    if (sent.declaredLength !== undefined) headers['content-length'] = String(sent.declaredLength);
    body = sent as unknown as Readable;
  } else if (sent && (sent.length > 0 || !BODILESS.has(req.method))) body = bytes = sent;
  if (bytes && bytes.length >= (req.stream === true ? STREAM_HANDED_OVER_FROM : HANDED_OVER_FROM)) {
    headers['content-length'] = String(bytes.length);
    // undici documents (async) iterables as dispatch bodies; its types list only Readable.
    body = handedOver(bytes) as unknown as Readable;
  }
  let res: DispatchedResponse;
  try {
    res = await dispatchUpstream(dispatcher, { method: req.method as Dispatcher.HttpMethod, path: req.path, headers, body }, req.signal);
  } catch (err) {
    throw upstreamError(err, req.signal, 'request');
  }
  // Core strips hop-by-hop headers when it writes the head; cookies belong to the
  // gateway's session with the provider, never to the client.
  const responseHeaders = res.headers as Record<string, string | string[]>;
  // Checked first: a delete, even of a name that is not there, is a runtime call.
  if (responseHeaders['set-cookie'] !== undefined) delete responseHeaders['set-cookie'];
  // The live undici body: core maps its failures with upstreamError (phase 'body') and
  // calls destroy() to free the connection when nobody will read it.
  const answer: ProviderResponse = { status: res.status, headers: responseHeaders, body: res.body };
  // An error answer may quote the request, the gateway's credential in it (credential-echo.ts).
  if (res.status >= 300) {
    const secrets = sentCredentials(headers);
    if (secrets.length > 0) return withoutSentCredentials(answer, secrets, (err) => upstreamError(err, req.signal, 'body'));
  }
  return answer;
}

const TIMEOUTS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connecting',
  UND_ERR_HEADERS_TIMEOUT: 'waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'waiting for more of the response body',
  ETIMEDOUT: 'connecting',
};

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** The first error code on the error, its cause chain or (happy eyeballs) its aggregated errors. */
function codeOf(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    if (Array.isArray(e.errors) && e.errors.length > 0) return codeOf(e.errors[0]);
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Map an undici or socket failure to a catalogued error; no upstream text reaches the client. */
export function upstreamError(err: unknown, signal: { readonly aborted: boolean } | undefined, phase: 'request' | 'body'): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = codeOf(err);
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || (err as Error | undefined)?.name === 'AbortError') {
    return new GatewayError('GW_ERR_CLIENT_ABORT', undefined, { cause: err });
  }
  if (code && TIMEOUTS[code]) return new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', `Upstream timed out ${TIMEOUTS[code]}`, { cause: err });
  if (code === 'UND_ERR_INVALID_ARG') return new GatewayError('GW_ERR_INTERNAL', undefined, { cause: err });
  if ((code && UNREACHABLE.has(code)) || (code && /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code))) {
    if (phase === 'request') return new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', `Upstream could not be reached (${code})`, { cause: err });
    // The head came, so the upstream was reached and took the request: what it sent is a
    // broken answer (a JSON body or a stream alike), and not one to retry as a connection failure.
    return new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream connection failed mid-response (${code})`, { cause: err });
  }
  if (phase === 'request' && !code) return new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', undefined, { cause: err });
  return new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream sent an invalid response${code ? ` (${code})` : ''}`, { cause: err });
}

/**
 * `error` (what {@link upstreamError} made of `thrown`) as the request's outcome records it:
 * when the failure came from a provider's own code — a plain Error with no socket or undici
 * code, such as a plugin's, perhaps already mapped by a timer — its message follows the
 * catalogued one, with the config's secrets blanked as in the operational log. The client
 * is told `error` alone: no provider text reaches it.
 * @example
 * auditedError(upstreamError(new Error('worker died'), signal, 'body'), thrown).message
 * // 'Upstream sent an invalid response: worker died'
 */
export function auditedError(error: GatewayError, thrown: unknown): GatewayError {
  if (error.kind === 'client_abort') return error;
  let origin = thrown;
  for (let depth = 0; origin instanceof GatewayError && depth < 3; depth++) origin = origin.cause;
  if (!(origin instanceof Error) || origin instanceof GatewayError || codeOf(origin) !== undefined || origin.message === '') return error;
  return new GatewayError(error.code, `${error.message}: ${redacted(origin.message)}`, { headers: error.headers, cause: thrown });
}
