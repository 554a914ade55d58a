/**
 * Prior-knowledge h2c on the HTTP/1.1 port without reading a byte in JavaScript first.
 *
 * Every cleartext connection goes straight to Node's HTTP/1.1 server, whose C++ parser reads
 * it from the first byte. An HTTP/2 client's preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) is
 * not a request to that parser: llhttp consumes exactly those 24 bytes and stops with
 * `HPE_PAUSED_H2_UPGRADE`, which Node reports as a 'clientError' carrying the chunk it was
 * reading. {@link handToHttp2} then undoes the HTTP/1.1 server's hold on the socket, the way
 * Node's own upgrade path does, and gives the HTTP/2 server the socket with the preface put
 * back in front of whatever followed it.
 *
 * Why not look at the first bytes before choosing a server: that first read goes through
 * the socket's JavaScript stream, and a pause, a put-back and a second read follow: 10–30 µs
 * of CPU per new connection (bench/HISTORY.md).
 */
import { createRequire } from 'node:module';
import net, { type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** What llhttp says when it has read an HTTP/2 preface. */
export const H2_PREFACE_CODE = 'HPE_PAUSED_H2_UPGRADE';

/** A 'clientError' as Node's HTTP/1.1 server raises it for a parse error. */
export interface ParseError extends Error {
  code?: string;
  /** Where parsing stopped in `rawPacket`. */
  bytesParsed?: number;
  /** The chunk the parser was reading. */
  rawPacket?: Buffer;
}

// Node's own release of a socket's parser (its upgrade path's): stops the C++ parser
// reading the socket, takes it off the server's request-timeout list, returns it to the pool.
const { freeParser } = createRequire(import.meta.url)('_http_common') as {
  freeParser(parser: unknown, req: null, socket: Socket): void;
};

/** The events Node's HTTP/1.1 server listens to on a connection's socket ('error' aside: see below). */
const HTTP1_EVENTS = ['data', 'end', 'close', 'drain', 'timeout', 'resume', 'pause'] as const;

/** A plain socket's own listeners on those events (net's half-open handling): these stay. */
const SOCKET_OWN: ReadonlySet<unknown> = (() => {
  const plain = new net.Socket();
  const own = new Set<unknown>(HTTP1_EVENTS.flatMap((event) => plain.listeners(event)));
  plain.destroy();
  return own;
})();

/**
 * Take `socket` from the HTTP/1.1 server that raised `err` (an {@link H2_PREFACE_CODE}) and
 * hand it to `http2Server`. Listeners the caller added on {@link HTTP1_EVENTS} go too.
 */
export function handToHttp2(socket: Socket, err: ParseError, http2Server: net.Server): void {
  for (const event of HTTP1_EVENTS) {
    for (const listener of socket.listeners(event)) if (!SOCKET_OWN.has(listener)) socket.off(event, listener as (...args: unknown[]) => void);
  }
  // The HTTP/1.1 server's 'error' listener removed itself before raising the error and left a
  // no-op in its place: kept until the HTTP/2 session puts its own beside it.
  socket.setTimeout(0);
  freeParser((socket as Socket & { parser?: unknown }).parser, null, socket);
  // Not flowing: the put-back bytes wait in the buffer for the HTTP/2 session to read them,
  // instead of being emitted as 'data' to no one.
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
  const rest = err.rawPacket?.subarray(err.bytesParsed ?? 0) ?? Buffer.alloc(0);
  socket.unshift(rest.length ? Buffer.concat([PREFACE, rest]) : PREFACE);
  // The HTTP/1.1 server makes its sockets half-open and ends them on the client's FIN from
  // the 'end' listener removed above; HTTP/2 never does, so a client that left would leave
  // the socket, its session and every request on it open until the idle timeout.
  socket.allowHalfOpen = false;
  http2Server.emit('connection', socket);
}
