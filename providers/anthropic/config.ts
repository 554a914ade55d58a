/**
 * The `anthropic` provider's config: what the YAML entry may hold, its defaults, and the
 * checks a schema cannot express (a usable base URL), done once per config generation.
 */
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
  /** `max_tokens` for unified-endpoint requests that set none (Anthropic requires one; OpenAI clients often omit it). */
  default_max_tokens: number;
}

/**
 * The seed's models first (most are retired upstream; listed because the seed promises
 * them), then current ones. claude-sonnet-4-5 reaches end-of-life on 2026-11-30, so it is
 * not listed; any model id is forwarded whether listed or not.
 */
export const DEFAULT_MODELS = [
  'claude-3-opus-20240229',
  'claude-3-sonnet-20240229',
  'claude-3-haiku-20240307',
  'claude-3-5-sonnet-20241022',
  'claude-opus-5-5',
  'claude-sonnet-5-5',
  'claude-sonnet-4-6',
  'claude-haiku-4-5',
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
    default_max_tokens: { type: 'integer', minimum: 1, default: 4096 },
  },
};

export { GATEWAY_ONLY_HEADERS, droppedHeaders, parseBaseUrl, type Upstream } from '../common/upstream-config.js';
