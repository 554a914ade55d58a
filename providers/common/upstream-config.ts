/**
 * Config checks every HTTP provider shares: a usable base URL split into the pool's
 * origin and a path prefix, and which gateway-only headers are dropped before forwarding.
 */
import { CLIENT_ADDRESS_HEADERS, isCredentialHeader } from '../../core/index.js';

/** Identity headers the gateway reads and a provider never needs, unless forwarded on purpose. */
export const GATEWAY_ONLY_HEADERS: readonly string[] = ['x-workspace-id'];

export interface Upstream {
  /** `https://api.anthropic.com`: the pool key. */
  origin: string;
  /** The base URL's path without a trailing slash (`''` or `/proxy/anthropic`). */
  basePath: string;
}

/** Split and check `base_url`; throws with a message naming the key. */
export function parseBaseUrl(value: string): Upstream {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`base_url "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`base_url must be http(s), got "${url.protocol}"`);
  if (url.username || url.password) throw new Error('base_url must not carry credentials; set api_key');
  if (url.search || url.hash) throw new Error('base_url must not carry a query or fragment');
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/**
 * The lower-cased header names to drop: gateway-only ones not opted in, plus `extra`.
 * Credentials cannot be opted in.
 */
export function droppedHeaders(forward: readonly string[], extra: readonly string[] = []): Set<string> {
  const wanted = new Set(forward.map((h) => h.toLowerCase()));
  for (const name of wanted) {
    if (isCredentialHeader(name)) throw new Error(`forward_headers: "${name}" is a credential header and is never forwarded`);
    if (CLIENT_ADDRESS_HEADERS.has(name)) throw new Error(`forward_headers: "${name}" says where the client is and is never forwarded`);
  }
  return new Set([...GATEWAY_ONLY_HEADERS.filter((h) => !wanted.has(h)), ...extra]);
}

/**
 * The opted-in names a provider does forward (lower-cased, once each): `forward` without
 * what `drop` still drops (the OpenAI provider never sends a client's organisation or
 * project). A provider's `forwardedHeaders`, which the response cache keys on.
 */
export function forwardedHeaders(forward: readonly string[], drop: ReadonlySet<string>): readonly string[] {
  return [...new Set(forward.map((h) => h.toLowerCase()))].filter((h) => !drop.has(h));
}
