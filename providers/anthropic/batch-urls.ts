/**
 * A Message Batch object's `results_url` is absolute, on the API's own origin
 * (`https://api.anthropic.com/v1/messages/batches/<id>/results`), and the SDKs'
 * `batches.results(id)` GETs it as written. Passed through, that call would leave the
 * gateway with the client's gateway key. So in batch answers the URL is made relative to
 * the client's base URL (`/v1/messages/batches/<id>/results`), which both official SDKs
 * join to their `baseURL`, as they do every path. Only these small JSON answers are read
 * whole; results (JSONL) and everything else stream untouched.
 */
import type { ProviderResponse } from '../../core/index.js';
import { readAll } from '../common/body.js';

/**
 * Bare upstream paths (no base path, no query) whose GET or POST answers hold batch
 * objects: create, list, retrieve, cancel — not the results.
 */
export function holdsBatchObjects(bare: string): boolean {
  return (bare === '/v1/messages/batches' || bare.startsWith('/v1/messages/batches/')) && !bare.endsWith('/results');
}

/** A listing is at most 1000 batches of well under 1 KB each. */
export const BATCH_BODY_LIMIT = 4 * 1024 * 1024;

/** The origin and any path before the API's own, in a `results_url` value. */
const ABSOLUTE_RESULTS_URL = /("results_url"\s*:\s*")[^"]*?(\/v1\/messages\/batches\/)/g;

/** `res` with each batch's `results_url` relative to the client's base URL; other answers as they are. */
export async function withRelativeResultsUrls(res: ProviderResponse, signal: { readonly aborted: boolean }): Promise<ProviderResponse> {
  const type = res.headers['content-type'];
  if (res.status < 200 || res.status >= 300 || res.body === null || typeof type !== 'string' || !type.includes('json')) return res;
  const bytes = await readAll(res.body, BATCH_BODY_LIMIT, signal);
  // latin1 maps every byte to one char and back: the rest of the body is kept byte for byte.
  const text = bytes.toString('latin1');
  const rewritten = text.replace(ABSOLUTE_RESULTS_URL, '$1$2');
  const out = rewritten === text ? bytes : Buffer.from(rewritten, 'latin1');
  const headers = res.headers;
  if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
  headers['content-length'] = String(out.length);
  return { ...res, headers, body: out };
}
