/**
 * Mapping a path under `/v1/gemini` to the upstream path, safely, and reading what a
 * Gemini call is from its path: `v1beta/models/{model}:{method}`. `@google/genai` with
 * `httpOptions.baseUrl` at the prefix sends `/v1beta/models/…`; tools whose base ends at
 * the version send bare `/models/…`, which gets `v1beta`. A client's `?key=` is removed
 * from the query (the gateway's key goes in a header); every other parameter stays as sent.
 */
import { GatewayError, withoutKey } from '../../core/index.js';
import { checkedSegments, isUploadSubpath } from '../common/paths.js';

const ROOTS = new Set(['v1', 'v1beta', 'v1alpha', 'upload']);
const BARE_ROOTS = new Set(['models', 'tunedModels', 'cachedContents', 'files', 'batches', 'operations']);

/**
 * The upstream path (with `?query`, `key` removed) for `subpath` under `basePath`.
 * Throws 400 for a path that could escape, 404 for one outside the API.
 * @example
 * upstreamPath('/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'alt=sse&key=k', '')
 * // '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
 */
export function upstreamPath(subpath: string, query: string, basePath: string): string {
  const kept = checkedSegments(subpath);
  const first = kept[0];
  if (first === undefined) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', 'No Gemini API path given; try /v1beta/models/{model}:generateContent');
  if (!ROOTS.has(first)) {
    if (!BARE_ROOTS.has(first)) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Unknown Gemini API path "/${first}"; expected /v1beta/…, /v1/… or one of /${[...BARE_ROOTS].join(', /')}`);
    kept.unshift('v1beta');
  }
  const trailing = subpath.endsWith('/') ? '/' : '';
  const q = withoutKey(query);
  return `${basePath}/${kept.join('/')}${trailing}${q ? `?${q}` : ''}`;
}

/** What a model call's path names: `models/gemini-2.5-flash:countTokens` → model and method. */
export interface ModelCall {
  model: string;
  /** `generateContent`, `streamGenerateContent`, `countTokens`, … or `''` for `GET models/{model}`. */
  method: string;
}

/** The model and method of an upstream path (base path and query removed), if it is a model call. */
export function modelCall(segments: readonly string[]): ModelCall | undefined {
  // [version, 'models' | 'tunedModels', '{model}:{method}']
  if (segments.length !== 3 || (segments[1] !== 'models' && segments[1] !== 'tunedModels')) return undefined;
  let last: string;
  try {
    last = decodeURIComponent(segments[2]);
  } catch {
    return undefined;
  }
  const colon = last.lastIndexOf(':');
  return colon < 0 ? { model: last, method: '' } : { model: last.slice(0, colon), method: last.slice(colon + 1) };
}

/** What Google serves under `/upload/{version}/`: media uploads, never a model call. */
const UPLOAD_COLLECTIONS = new Set(['files', 'fileSearchStores']);

/**
 * Whether `subpath` is a media upload (`/upload/v1beta/files`, the resumable protocol's
 * start and its chunks alike, or a file search store's upload), whose body is streamed.
 * @example
 * isUploadPath('/upload/v1beta/files') // true
 */
export function isUploadPath(subpath: string): boolean {
  return isUploadSubpath(subpath, UPLOAD_WORDS, isUploadSegments);
}

const UPLOAD_WORDS = ['upload'] as const;

function isUploadSegments(kept: string[]): boolean {
  return kept[0] === 'upload' && kept.length >= 3 && UPLOAD_COLLECTIONS.has(kept[2]);
}
