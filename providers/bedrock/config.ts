/**
 * The `bedrock` provider's config: what the YAML entry may hold, its defaults, and the
 * checks a schema cannot express (a usable endpoint), done once per config generation.
 */
import { CLIENT_ADDRESS_HEADERS, isCredentialHeader } from '../../core/index.js';
import { anthropicBetasSchema, type AnthropicBetasConfig } from './betas.js';

export interface BedrockConfig {
  /** The region requests are signed for and, by default, sent to. */
  region: string;
  /** The Bedrock Runtime endpoint; `{region}` is replaced by `region`. */
  base_url: string;
  /**
   * Where the gateway's AWS credentials come from. `auto`: the static keys below, else the
   * standard AWS chain when something points at it (env keys, a profile or shared files,
   * web identity, a container endpoint), else unconfigured. `chain`: always the chain,
   * EC2 instance roles included (it may ask the instance metadata service). `static`: only
   * the keys below.
   */
  credentials: 'auto' | 'chain' | 'static';
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  /** AWS profile for the chain; empty uses `AWS_PROFILE` or `default`. */
  profile: string;
  /** Temporary credentials are fetched anew this long before they expire. */
  refresh_before_expiry_ms: number;
  /** Gateway-only headers (the identity header `x-workspace-id`) to forward anyway. */
  forward_headers: string[];
  connect_timeout_ms: number;
  /** Until the response head; a long non-streamed generation needs minutes. */
  headers_timeout_ms: number;
  /** Longest silence between body chunks. */
  body_idle_timeout_ms: number;
  /** Listed in `/v1/providers`; requests for any other model id, profile or ARN are still forwarded. */
  models: string[];
  /**
   * Where `/anthropic/v1/messages` (the Anthropic Messages API on Bedrock) goes: `runtime`,
   * the Bedrock Runtime at `base_url`, signed for `bedrock`, with `anthropic_version` put in
   * the body when the client left it out; or `mantle`, `mantle_base_url`, signed for
   * `bedrock-mantle`, with the `anthropic-version` header.
   */
  messages_endpoint: 'runtime' | 'mantle';
  /** The bedrock-mantle endpoint; `{region}` is replaced by `region`. */
  mantle_base_url: string;
  /**
   * The Bedrock control plane (`bedrock`, not `bedrock-runtime`), where the catalogue reads
   * (`/inference-profiles`, `/foundation-models`) go, signed for `bedrock`; `{region}` is
   * replaced by `region`.
   */
  control_base_url: string;
  /**
   * The Anthropic betas sent to Bedrock (`anthropic-beta` header, a body's `anthropic_beta`,
   * Converse's `additionalModelRequestFields.anthropic_beta`) on InvokeModel, Converse, their
   * streams, `/anthropic/v1/messages` and count_tokens, per model or for all; others are
   * dropped. Absent: every beta is forwarded.
   */
  anthropic_betas?: AnthropicBetasConfig;
}

/** The seed's models. */
export const DEFAULT_MODELS = [
  'anthropic.claude-3-opus-20240229-v1:0',
  'anthropic.claude-3-sonnet-20240229-v1:0',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'amazon.titan-text-express-v1',
  'amazon.titan-text-lite-v1',
];

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    region: { type: 'string', pattern: '^[a-z0-9-]+$', default: 'us-east-1' },
    base_url: { type: 'string', pattern: '^https?://', default: 'https://bedrock-runtime.{region}.amazonaws.com' },
    credentials: { enum: ['auto', 'chain', 'static'], default: 'auto' },
    access_key_id: { type: 'string', default: '' },
    secret_access_key: { type: 'string', default: '' },
    session_token: { type: 'string', default: '' },
    profile: { type: 'string', default: '' },
    refresh_before_expiry_ms: { type: 'integer', minimum: 0, default: 300_000 },
    forward_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }, default: [] },
    connect_timeout_ms: { type: 'integer', minimum: 1, default: 10_000 },
    headers_timeout_ms: { type: 'integer', minimum: 1, default: 600_000 },
    body_idle_timeout_ms: { type: 'integer', minimum: 1, default: 300_000 },
    models: { type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_MODELS },
    messages_endpoint: { enum: ['runtime', 'mantle'], default: 'runtime' },
    mantle_base_url: { type: 'string', pattern: '^https?://', default: 'https://bedrock-mantle.{region}.api.aws' },
    control_base_url: { type: 'string', pattern: '^https?://', default: 'https://bedrock.{region}.amazonaws.com' },
    anthropic_betas: anthropicBetasSchema,
  },
};

/** Identity headers the gateway reads and Bedrock never needs, unless forwarded on purpose. */
const GATEWAY_ONLY_HEADERS: readonly string[] = ['x-workspace-id'];

export interface Endpoint {
  /** `https://bedrock-runtime.us-east-1.amazonaws.com`: the pool key. */
  origin: string;
  /** `host[:port]` as the upstream connection sends it, and as it is signed. */
  host: string;
  /** The base URL's path without a trailing slash (`''` or `/proxy/bedrock`). */
  basePath: string;
}

/** Resolve `{region}` in `base_url` and check it; throws with a message naming the key. */
export function parseEndpoint(baseUrl: string, region: string): Endpoint {
  const value = baseUrl.replaceAll('{region}', region);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`base_url "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`base_url must be http(s), got "${url.protocol}"`);
  if (url.username || url.password) throw new Error('base_url must not carry credentials');
  if (url.search || url.hash) throw new Error('base_url must not carry a query or fragment');
  return { origin: url.origin, host: url.host, basePath: url.pathname.replace(/\/+$/, '') };
}

/** The lower-cased header names to drop: gateway-only ones not opted in. Credentials cannot be opted in. */
export function droppedHeaders(forward: readonly string[]): Set<string> {
  const wanted = new Set(forward.map((h) => h.toLowerCase()));
  for (const name of wanted) {
    if (isCredentialHeader(name)) throw new Error(`forward_headers: "${name}" is a credential header and is never forwarded`);
    if (CLIENT_ADDRESS_HEADERS.has(name)) throw new Error(`forward_headers: "${name}" says where the client is and is never forwarded`);
  }
  return new Set(GATEWAY_ONLY_HEADERS.filter((h) => !wanted.has(h)));
}
