/**
 * The client-facing listener. Cleartext: one port speaks HTTP/1.1 and HTTP/2 with prior
 * knowledge, told apart by the HTTP/2 connection preface (the AWS SDK for JavaScript opens
 * h2c to an `http://` endpoint). With `server.tls`: TLS with ALPN offering `h2` and
 * `http/1.1`. Both feed the same handler through Node's HTTP/2 compatibility API. Cleartext
 * connections all start on the HTTP/1.1 server; a preface moves one to HTTP/2 (h2c-handoff.ts).
 *
 * Shutdown is two-step: `close()` stops accepting, sends GOAWAY to HTTP/2 sessions, closes
 * idle HTTP/1.1 connections and the rest as their last response ends; `destroy()` cuts
 * whatever is still open when the drain timeout runs out.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerConfig } from './config/types.js';
import { H2_PREFACE_CODE, handToHttp2, type ParseError } from './h2c-handoff.js';
import type { GatewayRequest, GatewayResponse } from './handler.js';
import type { Logger } from './logger.js';
import { failBodyRead } from './request-body.js';
import { GatewayError } from './errors.js';
import { uploadUnderWay } from './upload-body.js';

export interface Listener {
  /** `https` when TLS is configured. */
  readonly scheme: 'http' | 'https';
  address(): AddressInfo;
  /** Open client connections (HTTP/1.1 sockets and HTTP/2 sessions). */
  readonly connections: number;
  /** Stop accepting and close connections as they go idle; resolves when none is left. */
  close(): Promise<void>;
  /** Cut every connection still open. */
  destroy(): void;
}

type Handler = (req: GatewayRequest, res: GatewayResponse) => void;

/**
 * `node:http2`, loaded when first needed: at start with TLS, else on the first h2c client.
 * Loading it costs ~5 ms of start-up that most cleartext deployments never use.
 */
const loadHttp2 = (): typeof http2 => createRequire(import.meta.url)('node:http2') as typeof http2;

/**
 * @param refused told of each connection refused at accept past `config.max_connections`
 *   (h2c connections count: they are accepted by the HTTP/1.1 server before the handoff).
 */
export async function listen(config: ServerConfig, bind: { host: string; port: number }, handler: Handler, log: Logger, refused?: () => void): Promise<Listener> {
  const tracker = new ConnectionTracker();
  const onRequest: Handler = (req, res) => {
    if (req.httpVersionMajor === 1 && hostCount(req.rawHeaders) > 1) return refuseAmbiguousHost(res as http.ServerResponse);
    tracker.request(req, res);
    handler(req, res);
  };
  const refuse = (err: ParseError, socket: Socket): void => {
    log.debug('client connection error', { err });
    const res = inFlight(socket);
    // The client closed its side before its request was whole: it left, as a reset says (a
    // 499 the request hears as its connection closing), not a malformed body to answer.
    if (res && err.code === 'HPE_INVALID_EOF_STATE') return void socket.destroy();
    // An admitted upload answers to upload_idle_timeout_ms instead (upload-body.ts). Node
    // checks a request once (an expired one leaves its list until the next request on the
    // connection begins), so the connection's later requests are still held to the limit.
    if (res && err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && uploadUnderWay(res.req)) return void log.debug('request_timeout_ms passed during an upload: left to its idle limit', { request_id: res.getHeader('x-request-id') });
    // A body too slow or malformed: its request answers the 408 or 400, in its route's format
    // and audited as such, rather than Node writing a bare status and the audit seeing an abort.
    const failure = res && !res.headersSent ? bodyFailure(err) : undefined;
    if (failure && failBodyRead(res!.req, res!, failure)) return;
    refuseMalformed(err, socket, res?.headersSent === true);
  };
  const h2 = http2Options(config);
  // HTTP/1.1 on either listener: every cleartext connection starts here; with TLS, the
  // http/1.1 ones (and clients without ALPN) are handed to it.
  const h1 = createHttp1(config, onRequest);
  h1.on('connection', (socket: Socket) => tracker.socket(socket));
  // `Expect: 100-continue`: Node would answer 100 itself before anything saw the length;
  // the body's reader says it once the body is wanted (request-body.ts).
  h1.on('checkContinue', onRequest);
  let outer: net.Server;
  if (config.tls) {
    // ALPN picks h2 or http/1.1; http/1.1 comes as 'unknownProtocol' and goes to h1, with its
    // header, request and keep-alive timeouts (HTTP/2's own http/1.1 fallback has none).
    const secure = loadHttp2().createSecureServer({ ...h2, ALPNCallback: preferH2, cert: readFileSync(config.tls.cert_file), key: readFileSync(config.tls.key_file) }, onRequest);
    secure.setTimeout(config.idle_timeout_ms);
    // Known from the TCP accept, not only from ALPN: secure.close() waits on every socket,
    // one that never sends a ClientHello (a load balancer's TCP check) included.
    secure.on('connection', (raw: Socket) => tracker.handshake(raw));
    secure.on('secureConnection', (socket: TLSSocket) => tracker.handshaken(socket));
    secure.on('session', (session: http2.ServerHttp2Session) => tracker.session(session));
    secure.on('checkContinue', onRequest);
    // 'listening' starts h1's header and request timeout checks; it is never bound itself.
    h1.emit('listening');
    h1.on('clientError', refuse);
    secure.on('unknownProtocol', (socket: Socket) => h1.emit('connection', socket));
    secure.on('close', () => h1.close());
    // Failed TLS handshakes.
    secure.on('clientError', refuse);
    outer = secure;
  } else {
    // Made for the first h2c client: it is never bound, only handed sockets.
    let h2c: http2.Http2Server | undefined;
    const h2cServer = (): http2.Http2Server => {
      if (h2c) return h2c;
      h2c = loadHttp2().createServer(h2, onRequest);
      h2c.setTimeout(config.idle_timeout_ms);
      h2c.on('session', (session: http2.ServerHttp2Session) => tracker.session(session));
      h2c.on('checkContinue', onRequest);
      return h2c;
    };
    h1.on('clientError', (err: ParseError, socket: Socket) => {
      if (err.code !== H2_PREFACE_CODE) return refuse(err, socket);
      // A preface behind a request still being answered is no way to start HTTP/2, and the
      // handoff would take that response's 'close' listener with it: cut the connection.
      if (tracker.busy(socket)) return void socket.destroy();
      tracker.forget(socket);
      handToHttp2(socket, err, h2cServer());
    });
    outer = h1;
  }
  if (config.max_connections !== undefined) capConnections(outer, config.max_connections, log, refused);

  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(bind.port, bind.host, () => {
      outer.off('error', reject);
      resolve();
    });
  });

  return {
    scheme: config.tls ? 'https' : 'http',
    address: () => outer.address() as AddressInfo,
    get connections() {
      return tracker.size;
    },
    close: () => {
      const stopped = new Promise<void>((resolve) => outer.close(() => resolve()));
      return Promise.all([stopped, tracker.drain()]).then(() => undefined);
    },
    destroy: () => tracker.destroyAll(),
  };
}

/** Between two debug lines about refused connections: a flood of them is one line a minute. */
const REFUSED_LOG_INTERVAL_MS = 60_000;

/**
 * Node's own cap, checked at accept before any JavaScript object is made for the socket:
 * past `max` open TCP connections a new one is closed at once (the client reads a reset or
 * an EOF) and the server emits 'drop'.
 */
function capConnections(server: net.Server, max: number, log: Logger, refused: (() => void) | undefined): void {
  server.maxConnections = max;
  let lastLogged = -Infinity;
  let unlogged = 0;
  server.on('drop', () => {
    refused?.();
    unlogged++;
    const now = performance.now();
    if (now - lastLogged < REFUSED_LOG_INTERVAL_MS) return;
    log.debug('client connections refused: server.max_connections are open', { max_connections: max, refused: unlogged });
    lastLogged = now;
    unlogged = 0;
  });
}

/** ALPN: h2 when the client offers it, else http/1.1; neither is a failed handshake. */
function preferH2({ protocols }: { protocols: string[] }): string | undefined {
  if (protocols.includes('h2')) return 'h2';
  return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
}

function http2Options(config: ServerConfig): http2.ServerOptions {
  const limits = config.http2;
  return {
    settings: { maxConcurrentStreams: limits.max_concurrent_streams, maxHeaderListSize: limits.max_header_list_size },
    maxHeaderListPairs: 256,
    // Rapid-reset and malformed-frame floods: the session is torn down past these counts.
    maxSessionRejectedStreams: limits.max_rejected_streams,
    maxSessionInvalidFrames: limits.max_invalid_frames,
  };
}

/** The HTTP/1.1 server (its callers say which sockets it gets). */
function createHttp1(config: ServerConfig, onRequest: Handler): http.Server {
  const headersTimeout = Math.min(60_000, config.request_timeout_ms || 60_000);
  const server = http.createServer(
    {
      maxHeaderSize: config.max_header_bytes,
      requestTimeout: config.request_timeout_ms,
      headersTimeout,
      // Node checks both timeouts every 30 s; a shorter request_timeout_ms is checked oftener.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, headersTimeout / 2)),
      keepAliveTimeout: config.keep_alive_timeout_ms,
      noDelay: true,
      // Reject ambiguous framing (both content-length and transfer-encoding) outright.
      insecureHTTPParser: false,
    },
    onRequest,
  );
  server.timeout = config.idle_timeout_ms;
  return server;
}

function hostCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

/**
 * RFC 9112 §3.2: more than one Host header is a 400. Node keeps the first and drops the
 * rest, so a signature check and a proxy in front could each see a different host.
 * Refused like a parse error, before the request exists (not audited).
 */
function refuseAmbiguousHost(res: http.ServerResponse): void {
  const body = JSON.stringify({ error: { code: 'GW_ERR_REQUEST_INVALID', type: 'invalid_request', message: 'More than one Host header' } });
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * The HTTP/1.1 response a connection is writing or will write next, the one Node's own
 * 'clientError' answer checks (its field: no public way leads to it).
 */
function inFlight(socket: Socket): http.ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Node's own answers to a request it could not parse, which a 'clientError' listener takes
 * over: 431, 413, 408 or 400, unless a response head already went out on the connection
 * (a pipelined request's bytes after it): Node's rule. Any other error (a reset, a failed
 * TLS handshake) just cuts it.
 */
function refuseMalformed(err: ParseError, socket: Socket, headSent: boolean): void {
  const code = err.code ?? '';
  const answer = MALFORMED_ANSWERS.get(code) ?? (code.startsWith('HPE_') ? BAD_REQUEST : undefined);
  if (answer && socket.writable && !headSent) socket.write(answer);
  socket.destroy(err);
}

/** The error a body read under way fails with when its connection raises `err`. */
function bodyFailure(err: ParseError): GatewayError | undefined {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new GatewayError('GW_ERR_REQUEST_TIMEOUT');
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return new GatewayError('GW_ERR_REQUEST_TOO_LARGE', 'Request body chunk extensions are too large');
  if (code.startsWith('HPE_')) return new GatewayError('GW_ERR_REQUEST_INVALID', `Malformed request body (${code.slice(4).toLowerCase().replace(/_/g, ' ')})`);
  return undefined;
}

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
const MALFORMED_ANSWERS = new Map([
  ['HPE_HEADER_OVERFLOW', 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n'],
  ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'],
]);

/**
 * Knows every open client connection: TLS connections still in their handshake, HTTP/1.1
 * sockets with their in-flight request count, HTTP/2 sessions. Draining closes each as soon
 * as it carries nothing.
 */
class ConnectionTracker {
  /** TCP sockets under a TLS handshake: no request on them yet. */
  private readonly handshaking = new Set<Socket>();
  private readonly sockets = new Map<Socket, number>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;
  private onEmpty: (() => void) | undefined;

  get size(): number {
    return this.handshaking.size + this.sockets.size + this.sessions.size;
  }

  handshake(raw: Socket): void {
    this.handshaking.add(raw);
    raw.once('close', () => {
      this.handshaking.delete(raw);
      this.check();
    });
  }

  /** Its handshake done, a TLS connection is tracked as an HTTP/1.1 socket or an HTTP/2 session. */
  handshaken(socket: TLSSocket): void {
    // The TCP socket the TLS one wraps (Node's own field: no public way leads to it).
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    if (raw) this.handshaking.delete(raw);
  }

  socket(socket: Socket): void {
    this.sockets.set(socket, 0);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.check();
    });
    if (this.draining) socket.end();
  }

  /**
   * A socket that became an HTTP/2 session's, tracked as that session from now on (its
   * 'close' listener here goes with the HTTP/1.1 server's: see handToHttp2).
   */
  forget(socket: Socket): void {
    this.sockets.delete(socket);
  }

  /** Whether a response is under way on an HTTP/1.1 socket. */
  busy(socket: Socket): boolean {
    return (this.sockets.get(socket) ?? 0) > 0;
  }

  session(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.once('close', () => {
      this.sessions.delete(session);
      this.check();
    });
    if (this.draining) session.close();
  }

  request(req: GatewayRequest, res: GatewayResponse): void {
    if (req.httpVersionMajor !== 1) return;
    const socket = req.socket as Socket;
    if (!this.sockets.has(socket)) return;
    this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
    // Tell the client not to reuse the connection once shutdown began.
    if (this.draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      const left = (this.sockets.get(socket) ?? 1) - 1;
      if (!this.sockets.has(socket)) return;
      this.sockets.set(socket, left);
      if (this.draining && left === 0) socket.end();
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    for (const raw of this.handshaking) raw.destroy();
    for (const [socket, active] of this.sockets) if (active === 0) socket.end();
    // GOAWAY: no new streams; the session closes once its open streams end.
    for (const session of this.sessions) session.close();
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onEmpty = resolve));
  }

  destroyAll(): void {
    for (const raw of this.handshaking) raw.destroy();
    for (const socket of this.sockets.keys()) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  private check(): void {
    if (this.size === 0 && this.onEmpty) {
      const done = this.onEmpty;
      this.onEmpty = undefined;
      done();
    }
  }
}
