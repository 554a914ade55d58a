/**
 * A file upload's body, streamed to the upstream as the client sends it instead of read
 * whole (`server.max_upload_bytes`, Provider.isUpload). Pulled by undici as it writes the
 * upstream request, so a slow upstream slows the client through the socket's own flow
 * control and the gateway holds a chunk or two, never the file.
 *
 * Once admitted (the upstream starts pulling it), an upload is held to
 * `server.upload_idle_timeout_ms` rather than the whole-request `request_timeout_ms`: a
 * 500 MB file on a slow link takes minutes, but a client that stops sending is cut.
 */
import type { ServerConfig } from './config/types.js';
import { GatewayError } from './errors.js';
import type { GatewayRequest, GatewayResponse } from './handler.js';
import type { CounterChild } from './metrics/fast-counter.js';
import { continueIfAsked, stopReading } from './request-body.js';
import type { RequestUpload } from './provider-types.js';

/** Requests whose upload is under way: HTTP/1.1's request timeout leaves them be (listener.ts). */
const underWay = new WeakSet<GatewayRequest>();

/** Whether `req` is an admitted upload still arriving, which `request_timeout_ms` does not cut. */
export function uploadUnderWay(req: GatewayRequest): boolean {
  return underWay.has(req);
}

export class UploadBody implements RequestUpload {
  bytesRead = 0;
  /** Read to its end: nothing of it is left on the connection. */
  complete = false;
  private taken = false;
  /** Armed only while waiting for the client's next chunk, so a slow upstream's pace never counts. */
  private idleTimer: NodeJS.Timeout | undefined;
  /** Rejects the wait under way when the idle timer fires. */
  private stalled: ((err: GatewayError) => void) | undefined;

  constructor(
    private readonly req: GatewayRequest,
    private readonly res: GatewayResponse,
    readonly declaredLength: number | undefined,
    private readonly limit: number,
    private readonly idleMs: number,
    /** `gateway_upload_bytes_total` for this request's route and provider, bound once. */
    private readonly counted: CounterChild | undefined,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    // Its bytes are gone once read: a second send (a retry) would send a truncated file.
    if (this.taken) throw new GatewayError('GW_ERR_INTERNAL', 'An upload body can be sent only once');
    this.taken = true;
    underWay.add(this.req);
    // The client waiting for `100 Continue` is invited only now, once the chain admitted it.
    if (this.req.headers.expect !== undefined) continueIfAsked(this.req, this.res);
    // Not destroyed when the upstream stops pulling: the client is still owed an answer.
    const chunks = this.req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
    let ended = false;
    try {
      for (;;) {
        const next = this.idleMs > 0 ? await this.nextWithin(chunks) : await chunks.next();
        if (next.done) break;
        const chunk = next.value;
        this.bytesRead += chunk.length;
        if (this.bytesRead > this.limit) throw new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Upload is larger than the ${this.limit} bytes this gateway accepts`);
        this.counted?.inc(chunk.length);
        yield chunk;
      }
      ended = true;
      this.complete = true;
    } finally {
      underWay.delete(this.req);
      clearTimeout(this.idleTimer);
      // Stopped early (too large, stalled, the upstream done with it): the reader lets go
      // of the request without destroying it. After a stall its read is still pending and
      // this return waits behind it, so it is not awaited.
      if (!ended) chunks.return?.().catch(ignore);
    }
  }

  /** An answer is about to go out while the body is still arriving: the rest is not read (request-body.ts stopReading). */
  leaveUnread(): void {
    if (!this.complete) stopReading(this.req, this.res);
  }

  /** The client's next chunk, or a 408 if it sends none for `idleMs`. */
  private nextWithin(chunks: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    if (this.idleTimer === undefined) this.idleTimer = setTimeout(onIdle, this.idleMs, this);
    else this.idleTimer.refresh();
    return new Promise((resolve, reject) => {
      this.stalled = reject;
      chunks.next().then(
        (next) => {
          this.stalled = undefined;
          resolve(next);
        },
        (err: unknown) => {
          this.stalled = undefined;
          reject(err);
        },
      );
    });
  }

  /** @internal the idle timer's callback. */
  stall(): void {
    const stalled = this.stalled;
    // Fired while the upstream held a chunk (backpressure): not the client's doing.
    if (stalled === undefined) return;
    this.stalled = undefined;
    stalled(new GatewayError('GW_ERR_REQUEST_TIMEOUT', `Upload sent no bytes for ${this.idleMs} ms`));
  }
}

function onIdle(upload: UploadBody): void {
  upload.stall();
}

function ignore(): void {}

/**
 * The upload `req` carries, or the 413 when its declared length is already past
 * `max_upload_bytes` (one sent without a length is held to it as it streams). `counted`
 * is the request's `gateway_upload_bytes_total` series.
 */
export function uploadBody(req: GatewayRequest, res: GatewayResponse, server: ServerConfig, counted?: CounterChild): UploadBody | GatewayError {
  const limit = server.max_upload_bytes;
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) {
    return new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Upload of ${declared} bytes is larger than the ${limit} bytes this gateway accepts`);
  }
  return new UploadBody(req, res, length, limit, server.upload_idle_timeout_ms, counted);
}
