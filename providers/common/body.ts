/** Reading a whole (small) upstream body, for JSON answers and error bodies that are not streams. */
import { GatewayError, type ProviderResponse } from '../../core/index.js';

/** Largest non-streamed body read into memory; OpenAI and Anthropic answers are far smaller. */
const LIMIT = 16 * 1024 * 1024;

/** The whole body as bytes. @throws GatewayError 502 when it is larger than 16 MB. */
export async function readAll(body: ProviderResponse['body']): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > LIMIT) throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answer is larger than the gateway reads');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
