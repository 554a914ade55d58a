/**
 * The cache key: a SHA-256 of a canonical form of what determines the answer: scope,
 * provider, request path, the varying headers and the body with its keys sorted and the
 * fields that do not change the generated content (`stream`, `stream_options`, `metadata`)
 * removed, so `{"a":1,"b":2}` and `{"b":2,"a":1}` share an entry.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { writeJson } from '../../core/index.js';

/** Top-level body fields left out of the key. */
const IGNORED = new Set(['stream', 'stream_options', 'metadata']);

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return writeJson(value, true);
}

/** The body without the fields that do not change the answer. */
export function keyBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(body)) if (!IGNORED.has(k)) out[k] = body[k];
  return out;
}

export interface KeyParts {
  /** `user:<user>\n<workspace>` or `shared`. */
  scope: string;
  provider: string;
  path: string;
  /** Set only when the dialect cannot convert between streamed and JSON entries. */
  stream?: boolean;
  headers: IncomingHttpHeaders;
  varyHeaders: readonly string[];
  body: Record<string, unknown>;
}

export function cacheKey(p: KeyParts): string {
  const vary = p.varyHeaders.map((h) => {
    const v = p.headers[h];
    return Array.isArray(v) ? v.join(',') : v ?? null;
  });
  // An array, not a joined string: no field can smuggle a separator into another.
  const canonical = canonicalJson([p.scope, p.provider, p.path, p.stream ?? null, vary, keyBody(p.body)]);
  return createHash('sha256').update(canonical).digest('hex');
}
