/**
 * The `openai` provider's config. The same type serves any OpenAI-compatible API
 * (Mistral, a vLLM or Ollama server, …): each is a provider entry with its own name,
 * `base_url`, key and `model_patterns`.
 */
export interface OpenAIConfig {
  /** Where the API lives; may carry a path prefix (`https://openrouter.ai/api`). */
  base_url: string;
  /** The gateway's key, sent as `Authorization: Bearer …`; empty leaves the provider unconfigured. */
  api_key: string;
  /** Sent as `OpenAI-Organization` / `OpenAI-Project`; clients' own values are never forwarded. */
  organization?: string;
  project?: string;
  /**
   * The one body rewrite: add `stream_options.include_usage` to streamed chat requests so
   * tokens can be counted (the usage-only chunk is then removed for clients that did not
   * ask). Turn off for services that refuse the field and report usage unasked.
   */
  stream_include_usage: boolean;
  /** Gateway-only headers (the identity header `x-workspace-id`) to forward anyway. */
  forward_headers: string[];
  connect_timeout_ms: number;
  headers_timeout_ms: number;
  body_idle_timeout_ms: number;
  /** Listed in `/v1/providers` and `/v1/models`, and routed to this provider by exact name. */
  models: string[];
}

export const DEFAULT_MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o3-mini', 'o4-mini'];

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    base_url: { type: 'string', pattern: '^https?://', default: 'https://api.openai.com' },
    api_key: { type: 'string', default: '' },
    organization: { type: 'string' },
    project: { type: 'string' },
    stream_include_usage: { type: 'boolean', default: true },
    forward_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }, default: [] },
    connect_timeout_ms: { type: 'integer', minimum: 1, default: 10_000 },
    headers_timeout_ms: { type: 'integer', minimum: 1, default: 600_000 },
    body_idle_timeout_ms: { type: 'integer', minimum: 1, default: 300_000 },
    models: { type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_MODELS },
  },
};

/** Client headers tied to an OpenAI account: meaningless (or misleading) with the gateway's key. */
export const ACCOUNT_HEADERS: readonly string[] = ['openai-organization', 'openai-project', 'x-provider'];
