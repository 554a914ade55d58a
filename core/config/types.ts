import type { StoreConfig } from '../stores/types.js';
import type { ResilienceConfig, RouteResilienceConfig, TargetEntry } from '../resilience/config.js';

/** The validated config, as the schema in `schemas/config.schema.json` shapes it (defaults applied). */
export interface ServerConfig {
  host: string;
  port: number;
  max_body_bytes: number;
  /** Largest file upload (a provider's `isUpload` requests), streamed rather than held. */
  max_upload_bytes: number;
  /** An admitted upload that sends no byte this long while the gateway waits for one is cut (408); 0: never. */
  upload_idle_timeout_ms: number;
  /**
   * Request-body bytes held across all requests at once (503 past it); the loader fills in
   * the default (core/body-budget.ts) and refuses a value below `max_body_bytes`.
   */
  max_inflight_body_bytes: number;
  /** Open client connections per process; more are refused at accept. Absent: no cap. */
  max_connections?: number;
  max_header_bytes: number;
  idle_timeout_ms: number;
  keep_alive_timeout_ms: number;
  request_timeout_ms: number;
  drain_timeout_ms: number;
  /** Worker processes (`node:cluster`); `auto` is one per core. Above 1 needs the redis store. */
  workers: number | 'auto';
  /** Present when the listener serves TLS; paths are relative to the config file. */
  tls?: { cert_file: string; key_file: string };
  http2: Http2Limits;
  /** A second listener for operational endpoints, never exposed to workspaces (`server.admin`). */
  admin?: AdminListenerConfig;
}

/** Operational endpoints that can move to the admin listener. */
export type OperationalEndpoint = 'health' | 'metrics' | 'providers' | 'plugins';

/** `server.admin`: where the chosen operational endpoints are served instead of the main port. */
export interface AdminListenerConfig {
  host: string;
  port: number;
  endpoints: OperationalEndpoint[];
}

/** HTTP/2 session limits (`server.http2`). */
export interface Http2Limits {
  max_concurrent_streams: number;
  max_header_list_size: number;
  max_rejected_streams: number;
  max_invalid_frames: number;
}

export interface ProviderEntry {
  type?: string;
  plugin?: string;
  enabled: boolean;
  prefix?: string;
  /** Globs of the models this entry serves on the unified endpoint; replaces the plugin's defaults. */
  model_patterns?: string[];
  /** Timeouts, retries, retry budget and breaker, applied by core whatever the provider type. */
  resilience?: ResilienceConfig;
  [key: string]: unknown;
}

export interface FilterEntry {
  name: string;
  plugin?: string;
  enabled: boolean;
  config: Record<string, unknown>;
}

export interface RouteEntry {
  name: string;
  match: { prefix?: string; path?: string; methods?: string[]; headers?: Record<string, string> };
  provider?: string;
  mode: 'passthrough' | 'unified';
  filters?: Record<string, boolean | Record<string, unknown>>;
  /** Pass-through routes: ordered / weighted provider instances of one type. */
  targets?: TargetEntry[];
  resilience?: RouteResilienceConfig;
}

/** A model alias: one provider and model, or ordered / weighted fallback `targets` (exactly one of the two). */
export type ModelAlias = { provider: string; model: string; targets?: undefined } | { targets: TargetEntry[]; provider?: undefined; model?: undefined };

/** The unified endpoint's model table: aliases and rules, tried before providers' own patterns. */
export interface ModelsSection {
  aliases: Record<string, ModelAlias>;
  rules: Array<{ match: string; provider: string }>;
}

export interface LimitEntry {
  requests_per_minute?: number;
  tokens_per_minute?: number;
}

export interface GatewayConfig {
  server: ServerConfig;
  providers: Record<string, ProviderEntry>;
  filters: FilterEntry[];
  routes: RouteEntry[];
  models?: ModelsSection;
  rate_limits?: { global?: LimitEntry; default?: LimitEntry; users?: Record<string, LimitEntry> };
  workspaces?: Record<string, { user: string; project?: string }>;
  /** Where shared counters live; defaults to `{ type: memory }`. */
  store?: StoreConfig;
  /** Sections added by later features are kept as they are for their plugins. */
  [section: string]: unknown;
}
