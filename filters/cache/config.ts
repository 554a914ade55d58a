/** Options under `filters[].config` for `cache`, validated by ajv with defaults applied. */

/** The `cache` filter's options. */
export interface CacheConfig {
  /** `user`: entries are private to one user in one workspace. `shared`: one entry serves everyone. */
  scope: 'user' | 'shared';
  /** How long an entry is served, in seconds. */
  ttl_seconds: number;
  /** Most entries held, across every pipeline (the store outlives reloads). */
  max_entries: number;
  /** Most bytes of response bodies held; the least recently used entry goes first. */
  max_bytes: number;
  /** A response larger than this is not stored. */
  max_entry_bytes: number;
  /** Cache requests that ask for `temperature: 0` (where their dialect puts it: temperature.ts). */
  temperature_zero: boolean;
  /** Cache requests that send `x-gateway-cache: on` (`off` opts a request out). */
  opt_in_header: boolean;
  /** Request headers that change the answer, so they are part of the key (`x-amzn-bedrock-*`, the dialect's `cacheKeyHeaders`, account and forwarded ones always are: key.ts). */
  vary_headers: string[];
}

/** The opt-in / opt-out request header. */
export const CACHE_HEADER = 'x-gateway-cache';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    scope: { enum: ['user', 'shared'], default: 'user' },
    ttl_seconds: { type: 'number', exclusiveMinimum: 0, default: 300 },
    max_entries: { type: 'integer', minimum: 1, default: 1000 },
    max_bytes: { type: 'integer', minimum: 1024, default: 67108864 },
    max_entry_bytes: { type: 'integer', minimum: 1, default: 4194304 },
    temperature_zero: { type: 'boolean', default: true },
    opt_in_header: { type: 'boolean', default: true },
    vary_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, default: ['anthropic-version', 'anthropic-beta'] },
  },
} as const;
