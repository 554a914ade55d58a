/** Reading a whole (small) upstream body, for JSON answers and error bodies that are not streams. */
import { GatewayError, upstreamError, type ProviderResponse } from '../../core/index.js';

/** Largest non-streamed body read into memory; OpenAI and Anthropic answers are far smaller. */
const LIMIT = 16 * 1024 * 1024;

/**
 * The whole body as bytes, up to `limit` bytes (16 MiB unless told).
 * @throws GatewayError 502 when it is larger; a connection that fails while it is read is
 * mapped as core maps it on a pass-through (`upstreamError`, body phase, a client abort
 * told by `signal`), so a reset after the head says the same thing on every route, never
 * that the body was not JSON. A body not read to its end is let go.
 */
export async function readAll(body: ProviderResponse['body'], limit = LIMIT, signal?: { readonly aborted: boolean }): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > limit) throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answer is larger than the ${limit} bytes the gateway reads`);
      chunks.push(chunk);
    }
  } catch (err) {
    (body as { destroy?: () => void }).destroy?.();
    throw upstreamError(err, signal, 'body');
  }
  return Buffer.concat(chunks, size);
}
