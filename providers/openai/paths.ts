/**
 * Mapping a path under `/v1/openai` to the upstream path, safely: the SDKs with
 * `baseURL: …/v1/openai/v1` send `/v1/chat/completions`; tools whose base URL ends at the
 * prefix send bare `/chat/completions`, which gets its `/v1`.
 */
import { GatewayError, withoutKey } from '../../core/index.js';
import { checkedSegments, isUploadSubpath } from '../common/paths.js';

/**
 * Bare API roots that lack their `/v1`: OpenAI's, then those only Mistral has (an entry of
 * this type may be Mistral; a root its service lacks is the upstream's 404).
 */
const BARE_ROOTS = new Set([
  'chat', 'completions', 'embeddings', 'models', 'responses', 'moderations', 'images', 'audio', 'files', 'batches', 'uploads', 'fine_tuning', 'vector_stores', 'assistants', 'threads',
  'fim', 'agents', 'conversations', 'batch', 'ocr', 'classifications', 'libraries',
]);

/**
 * The upstream path (with `?query`) for `subpath` under `basePath`.
 * Throws 400 for a path that could escape, 404 for one outside the API.
 * @example
 * upstreamPath('/chat/completions', '', '') // '/v1/chat/completions'
 */
export function upstreamPath(subpath: string, query: string, basePath: string): string {
  const kept = checkedSegments(subpath);
  const first = kept[0];
  if (first === undefined) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', 'No OpenAI API path given; try /v1/chat/completions');
  if (first !== 'v1') {
    if (!BARE_ROOTS.has(first)) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Unknown OpenAI API path "/${first}"; expected /v1/… or one of /${[...BARE_ROOTS].join(', /')}`);
    kept.unshift('v1');
  }
  const trailing = subpath.endsWith('/') ? '/' : '';
  const q = withoutKey(query);
  return `${basePath}/${kept.join('/')}${trailing}${q ? `?${q}` : ''}`;
}

/** OpenAI's (and Mistral's) file upload, and a part of an Upload (up to 64 MB each). */
const UPLOAD = /^\/v1\/(?:files|uploads\/[^/]+\/parts)$/;

/**
 * Whether a POST to `subpath` uploads a file, whose body is streamed (Provider.isUpload).
 * @example
 * isUploadPath('/v1/uploads/upload_abc/parts') // true
 */
export function isUploadPath(subpath: string): boolean {
  return isUploadSubpath(subpath, UPLOAD_WORDS, isUploadSegments);
}

const UPLOAD_WORDS = ['files', 'parts'] as const;

function isUploadSegments(kept: string[]): boolean {
  if (kept[0] !== 'v1') kept.unshift('v1');
  return UPLOAD.test(`/${kept.join('/')}`);
}
