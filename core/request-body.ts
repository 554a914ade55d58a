/** Reading a request body whole, within the gateway's size and time limits. */
import type { Http2ServerRequest } from 'node:http2';
import { bodyBudgetSpent, type BodyBudget, type BodyHolder } from './body-budget.js';
import { GatewayError } from './errors.js';
import type { GatewayRequest, GatewayResponse } from './handler.js';

const EMPTY = Buffer.alloc(0);

/**
 * Read the whole request body, refusing (413) as soon as it passes `limit`. Over HTTP/2 a
 * body not all received within `timeoutMs` (0: no limit) of this call, which comes as the
 * request does, is refused (408); HTTP/1.1's whole-request limit is Node's `requestTimeout`.
 * A client waiting for `100 Continue` gets it on `res` once its declared length passed.
 * With a `budget`, the body's bytes are reserved in it for `holder` (the declared length
 * before a byte is read, else chunk by chunk) and a body that would pass it is refused
 * (503 `GW_ERR_OVERLOADED`); the caller releases the reservation.
 */
export function readBody(req: GatewayRequest, res: GatewayResponse, limit: number, timeoutMs = 0, budget?: BodyBudget, holder?: BodyHolder): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? -1 : Number(declared);
  if (length > limit) {
    return Promise.reject(new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Request body of ${declared} bytes is larger than the ${limit} bytes this gateway accepts`));
  }
  if (budget && holder && length > 0 && !budget.reserve(holder, length)) return Promise.reject(bodyBudgetSpent());
  if (req.headers.expect !== undefined) continueIfAsked(req, res);
  // HTTP/2's events must be heard from the start (its streams can be reset before a microtask).
  return req.httpVersionMajor === 1 ? afterHead(req, length, limit, budget, holder) : streamed(req, limit, timeoutMs, budget, holder);
}

/**
 * The listener takes `Expect: 100-continue` from Node (which answers it by itself, before
 * anyone could see the length), so the invitation goes out only for a body to be read.
 * Node's own test: HTTP/1.1 (not 1.0) or HTTP/2, the token anywhere in the header.
 */
export function continueIfAsked(req: GatewayRequest, res: GatewayResponse): void {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return;
  if (/(?:^|\W)100-continue(?:$|\W)/i.test(req.headers.expect ?? '')) res.writeContinue();
}

/**
 * After a body was refused part-read, the rest is not worth reading: HTTP/1.1 closes the
 * connection after the answer; HTTP/2 resets the stream with NO_ERROR once the answer is out
 * (RFC 9113 §8.1), or a client still sending would keep it open.
 */
export function stopReading(req: GatewayRequest, res: GatewayResponse): void {
  if (req.httpVersionMajor === 1) res.setHeader('connection', 'close');
  else {
    const stream = (req as Http2ServerRequest).stream;
    stream.once('finish', () => stream.close());
  }
}

/**
 * A head and a small body mostly come in one socket read, whose body bytes Node's parser
 * pushes after the 'request' event: a microtask later they are all there (its "message
 * complete" comes a little later still), taken in one read() without the listeners and
 * the ticks of flowing mode.
 */
async function afterHead(req: GatewayRequest, length: number, limit: number, budget?: BodyBudget, holder?: BodyHolder): Promise<Buffer> {
  await undefined;
  if (length >= 0 && req.readableLength >= length && !req.headers['transfer-encoding']) {
    const body = (req.read() as Buffer | null) ?? EMPTY;
    // Flowing from here, the end of the message is heard without a listener, and Node lets
    // go of the request when its response finishes (a request never ended is kept by its
    // connection until the next one comes).
    req.resume();
    return body;
  }
  // The client may have gone in the ticks before this microtask, unheard: nothing else would say so.
  if (req.destroyed) throw new GatewayError('GW_ERR_CLIENT_ABORT');
  return streamed(req, limit, 0, budget, holder);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Request body is larger than the ${limit} bytes this gateway accepts`);
}

/**
 * Tell a body read under way over HTTP/1.1 that its connection failed in a way Node raises
 * on the connection, not the request — its requestTimeout, or a parse error in the body (a
 * bad chunk size): the read fails with `error` (GW_ERR_REQUEST_TIMEOUT, GW_ERR_REQUEST_INVALID),
 * so the request answers in its route's format and is audited as such, on a connection that
 * closes after the answer (its parser is done). False when no read is under way to hear it.
 */
export function failBodyRead(req: GatewayRequest, res: { setHeader(name: string, value: string): unknown }, error: GatewayError): boolean {
  // The read's 'error' listener is the one place that hears it, without another listener per read.
  if (req.listenerCount('error') === 0) return false;
  res.setHeader('connection', 'close');
  req.emit('error', error);
  return true;
}

/**
 * A body still arriving: chunk by chunk, refused as soon as it passes `limit` or takes longer
 * than `timeoutMs`, or as soon as its bytes past those already reserved do not fit the budget.
 */
function streamed(req: GatewayRequest, limit: number, timeoutMs: number, budget?: BodyBudget, holder?: BodyHolder): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const refuse = (err: unknown): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume(); // discard the rest without buffering it
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(tooLarge(limit));
      // A declared length was reserved whole (HTTP/1.1 and nghttp2 both hold a body to it).
      if (holder && size > holder.heldBodyBytes && !budget!.reserve(holder, size - holder.heldBodyBytes)) return refuse(bodyBudgetSpent());
      chunks.push(chunk);
    };
    const onAborted = (): void => refuse(new GatewayError('GW_ERR_CLIENT_ABORT'));
    const onEnd = (): void => {
      clearTimeout(timer);
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      // A stream may follow for minutes: these listeners, and through them the pieces of a
      // body read in several chunks, need not live that long (Node emits no 'error' on a
      // request without listeners once its body has ended).
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', refuse);
      req.off('aborted', onAborted);
      resolve(body);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', refuse);
    req.on('aborted', onAborted);
    if (timeoutMs > 0) timer = setTimeout(() => refuse(new GatewayError('GW_ERR_REQUEST_TIMEOUT', `Request body was not received within ${timeoutMs} ms`)), timeoutMs);
  });
}
