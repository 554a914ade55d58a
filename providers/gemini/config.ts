/**
 * The `gemini` provider's config: what the YAML entry may hold and its defaults.
 */
export interface GeminiConfig {
  /** Where the Gemini API lives; may carry a path prefix (a corporate proxy). */
  base_url: string;
  /** The gateway's key (`GOOGLE_API_KEY`), sent as `x-goog-api-key`; empty leaves the provider unconfigured. */
  api_key: string;
  /** The API version the unified endpoint calls (`v1beta` has tools' JSON Schemas and JSON mode). */
  api_version: string;
  /** Gateway-only headers (the identity header `x-workspace-id`) to forward anyway. */
  forward_headers: string[];
  connect_timeout_ms: number;
  /** Until the response head; a long non-streamed generation needs minutes. */
  headers_timeout_ms: number;
  /** Longest silence between body chunks. */
  body_idle_timeout_ms: number;
  /** Listed in `/v1/providers` and `/v1/models`; `gemini-*` models are routed here anyway. */
  models: string[];
}

export const DEFAULT_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash'];

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    base_url: { type: 'string', pattern: '^https?://', default: 'https://generativelanguage.googleapis.com' },
    api_key: { type: 'string', default: '' },
    api_version: { type: 'string', pattern: '^v1[a-z0-9]*$', default: 'v1beta' },
    forward_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }, default: [] },
    connect_timeout_ms: { type: 'integer', minimum: 1, default: 10_000 },
    headers_timeout_ms: { type: 'integer', minimum: 1, default: 600_000 },
    body_idle_timeout_ms: { type: 'integer', minimum: 1, default: 300_000 },
    models: { type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_MODELS },
  },
};
