/**
 * A file upload's body, streamed to the upstream as the client sends it instead of read
 * whole (`server.max_upload_bytes`, Provider.isUpload). Pulled by undici as it writes the
 * upstream request, so a slow upstream slows the client through the socket's own flow
 * control and the gateway holds a chunk or two, never the file.
 */
import { GatewayError } from './errors.js';
import type { GatewayRequest, GatewayResponse } from './handler.js';
import { continueIfAsked, stopReading } from './request-body.js';
import type { RequestUpload } from './provider-types.js';

export class UploadBody implements RequestUpload {
  bytesRead = 0;
  /** Read to its end: nothing of it is left on the connection. */
  complete = false;
  private taken = false;

  constructor(
    private readonly req: GatewayRequest,
    private readonly res: GatewayResponse,
    readonly declaredLength: number | undefined,
    private readonly limit: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    // Its bytes are gone once read: a second send (a retry) would send a truncated file.
    if (this.taken) throw new GatewayError('GW_ERR_INTERNAL', 'An upload body can be sent only once');
    this.taken = true;
    // The client waiting for `100 Continue` is invited only now, once the chain admitted it.
    if (this.req.headers.expect !== undefined) continueIfAsked(this.req, this.res);
    // Not destroyed when the upstream stops pulling: the client is still owed an answer.
    for await (const chunk of this.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      this.bytesRead += chunk.length;
      if (this.bytesRead > this.limit) throw new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Upload is larger than the ${this.limit} bytes this gateway accepts`);
      yield chunk;
    }
    this.complete = true;
  }

  /** An answer is about to go out while the body is still arriving: the rest is not read (request-body.ts stopReading). */
  leaveUnread(): void {
    if (!this.complete) stopReading(this.req, this.res);
  }
}

/**
 * The upload `req` carries, or the 413 when its declared length is already past `limit`
 * (one sent without a length is held to it as it streams).
 */
export function uploadBody(req: GatewayRequest, res: GatewayResponse, limit: number): UploadBody | GatewayError {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) {
    return new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Upload of ${declared} bytes is larger than the ${limit} bytes this gateway accepts`);
  }
  return new UploadBody(req, res, length, limit);
}
