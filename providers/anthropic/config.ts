/**
 * The `anthropic` provider's config: what the YAML entry may hold, its defaults, and the
 * checks a schema cannot express (a usable base URL), done once per config generation.
 */
import { isCredentialHeader } from '../../core/index.js';

export interface AnthropicConfig {
  /** Where the Messages API lives; may carry a path prefix (a corporate proxy). */
  base_url: string;
  /** The gateway's key; empty leaves the provider unconfigured (503 to callers). */
  api_key: string;
  /** Sent when the client sends no `anthropic-version`. */
  anthropic_version: string;
  /** Gateway-only headers (the identity header `x-workspace-id`) to forward anyway. */
  forward_headers: string[];
  connect_timeout_ms: number;
  /** Until the response head; a long non-streamed generation needs minutes. */
  headers_timeout_ms: number;
  /** Longest silence between body chunks (streams send `ping` events meanwhile). */
  body_idle_timeout_ms: number;
  /** Listed in `/v1/providers`; requests for other models are still forwarded. */
  models: string[];
}

/** The seed's models first, then current ones (aliases of dated snapshots). */
export const DEFAULT_MODELS = [
  'claude-3-opus-20240229',
  'claude-3-sonnet-20240229',
  'claude-3-haiku-20240307',
  'claude-3-5-sonnet-20241022',
  'claude-opus-4-6',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
  'claude-opus-4-1',
];

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    base_url: { type: 'string', pattern: '^https?://', default: 'https://api.anthropic.com' },
    api_key: { type: 'string', default: '' },
    anthropic_version: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', default: '2023-06-01' },
    forward_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }, default: [] },
    connect_timeout_ms: { type: 'integer', minimum: 1, default: 10_000 },
    headers_timeout_ms: { type: 'integer', minimum: 1, default: 600_000 },
    body_idle_timeout_ms: { type: 'integer', minimum: 1, default: 300_000 },
    models: { type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_MODELS },
  },
};

/** Identity headers the gateway reads and the provider never needs, unless forwarded on purpose. */
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

/** The lower-cased header names to drop: gateway-only ones not opted in. Credentials cannot be opted in. */
export function droppedHeaders(forward: readonly string[]): Set<string> {
  const wanted = new Set(forward.map((h) => h.toLowerCase()));
  for (const name of wanted) {
    if (isCredentialHeader(name)) throw new Error(`forward_headers: "${name}" is a credential header and is never forwarded`);
  }
  return new Set(GATEWAY_ONLY_HEADERS.filter((h) => !wanted.has(h)));
}
