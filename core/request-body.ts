/** Reading a request body whole, within the gateway's size limit. */
import { GatewayError } from './errors.js';
import type { GatewayRequest } from './handler.js';

/** Read the whole request body, refusing (413) as soon as it passes `limit`. */
export function readBody(req: GatewayRequest, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Request body of ${declared} bytes is larger than the ${limit} bytes this gateway accepts`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.resume(); // discard the rest without buffering it
        reject(new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Request body is larger than the ${limit} bytes this gateway accepts`));
        return;
      }
      chunks.push(chunk);
    };
    const onAborted = (): void => reject(new GatewayError('GW_ERR_CLIENT_ABORT'));
    const onEnd = (): void => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      // A stream may follow for minutes: these listeners, and through them the pieces of a
      // body read in several chunks, need not live that long (Node emits no 'error' on a
      // request without listeners once its body has ended).
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', reject);
      req.off('aborted', onAborted);
      resolve(body);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
    req.on('aborted', onAborted);
  });
}
