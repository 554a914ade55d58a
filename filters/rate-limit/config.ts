/**
 * The filter's own options and the limits it reads from the top-level `rate_limits`
 * block (the seed's format, verbatim). Limits are resolved once per config generation.
 */
import type { GatewayConfig } from '../../core/index.js';
import type { Scope, ScopeLimits } from './limiter.js';

/** Options under `filters[].config` for `rate-limit`. */
export interface RateLimitConfig {
  /** Key for requests no identity filter resolved. */
  anonymous_user: string;
  /** Count auxiliary calls (count_tokens, model lists, telemetry) as requests too. */
  limit_auxiliary: boolean;
  /** Count cache reads as tokens (off: a cached Claude Code turn would spend a minute's budget). */
  count_cache_reads: boolean;
  /** Request-body bytes per estimated input token. */
  bytes_per_token: number;
  /** Output tokens reserved when the request names no cap. */
  default_output_tokens: number;
  /** Most tokens one request reserves at admission (the real usage is charged after). */
  max_reserved_tokens: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    anonymous_user: { type: 'string', minLength: 1, default: 'anonymous' },
    limit_auxiliary: { type: 'boolean', default: false },
    count_cache_reads: { type: 'boolean', default: false },
    bytes_per_token: { type: 'number', exclusiveMinimum: 0, default: 4 },
    default_output_tokens: { type: 'integer', minimum: 0, default: 4096 },
    max_reserved_tokens: { type: 'integer', minimum: 1, default: 32768 },
  },
} as const;

/** The seed's default when neither the config nor `RATE_LIMIT_RPM` sets one. */
const SEED_DEFAULT_RPM = 60;

interface LimitEntry {
  requests_per_minute?: number;
  tokens_per_minute?: number;
}

/** Every scope's limits for one config generation. */
export class Limits {
  readonly global: Scope;
  private readonly fallback: ScopeLimits;
  private readonly users = new Map<string, ScopeLimits>();

  constructor(config: Readonly<GatewayConfig>, env: NodeJS.ProcessEnv) {
    const block = config.rate_limits ?? {};
    const rpm = block.default?.requests_per_minute ?? envRpm(env.RATE_LIMIT_RPM) ?? SEED_DEFAULT_RPM;
    this.fallback = { requests: rpm, tokens: block.default?.tokens_per_minute };
    this.global = { name: 'global', group: 'rl:global', limits: toLimits(block.global ?? {}) };
    // A user entry overrides the default field by field: `admin: {requests_per_minute: 200}` keeps the default tokens.
    for (const [user, entry] of Object.entries(block.users ?? {})) {
      const own = toLimits(entry as LimitEntry);
      this.users.set(user, { requests: own.requests ?? this.fallback.requests, tokens: own.tokens ?? this.fallback.tokens });
    }
  }

  /** Scopes made so far, by user: the same few callers ask on every request. */
  private readonly scopes = new Map<string, readonly Scope[]>();

  /** The scope for one user. */
  user(name: string): Scope {
    return { name: 'user', group: `rl:u:${encodeURIComponent(name)}`, limits: this.users.get(name) ?? this.fallback };
  }

  /** The scopes one user's request is counted in: the user's, then the gateway's. */
  scopesFor(name: string): readonly Scope[] {
    let scopes = this.scopes.get(name);
    if (!scopes) {
      // Bounded: identities come from auth, but an open gateway must not grow without end.
      if (this.scopes.size >= MAX_CACHED_SCOPES) this.scopes.clear();
      scopes = [this.user(name), this.global];
      this.scopes.set(name, scopes);
    }
    return scopes;
  }
}

const MAX_CACHED_SCOPES = 10_000;

/** A whole number of requests, or nothing: `Number(" ")` is 0, which would refuse every request. */
function envRpm(text: string | undefined): number | undefined {
  return text !== undefined && /^\s*\d+\s*$/.test(text) ? Number(text) : undefined;
}

function toLimits(e: LimitEntry): ScopeLimits {
  return { requests: e.requests_per_minute, tokens: e.tokens_per_minute };
}
