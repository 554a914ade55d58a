/**
 * The upstream request headers: the client's, minus every credential and gateway-only
 * header, plus the gateway's key. `anthropic-version` and `anthropic-beta` pass as sent
 * (clients use newer dates and betas the gateway needn't know); a missing version gets
 * the configured default, since the seed's own curl example omits it and the API needs it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { upstreamRequestHeaders } from '../../core/index.js';

export interface HeaderPolicy {
  apiKey: string;
  defaultVersion: string;
  /** Lower-cased names never forwarded (gateway-only headers not opted in). */
  drop: ReadonlySet<string>;
}

export function anthropicRequestHeaders(incoming: IncomingHttpHeaders, policy: HeaderPolicy): Record<string, string | string[]> {
  const headers = upstreamRequestHeaders(incoming, policy.drop);
  headers['x-api-key'] = policy.apiKey;
  if (!headers['anthropic-version']) headers['anthropic-version'] = policy.defaultVersion;
  return headers;
}
