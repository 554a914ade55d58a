/**
 * The provider side of the plugin contract (`core/types.ts` holds the rest and re-exports
 * these): what a provider module exports, what an instance serves, what it answers.
 */
import type { Dialect } from './dialect.js';
import type { BodyStrings } from './json-body.js';
import type { JsonSchema, PluginEnv, RequestContext, TokenUsage } from './types.js';

export interface ModelInfo {
  readonly id: string;
  readonly aliases?: readonly string[];
}

export interface ProviderHealth {
  readonly status: 'ok' | 'unconfigured' | 'degraded' | 'down';
  readonly detail?: string;
}

/** Reads token usage from response bytes as they pass, without holding them. */
export interface UsageMeter {
  write(chunk: Uint8Array): void;
  /** Called once when the body ended (complete or not). */
  end(): void;
  readonly usage: TokenUsage;
  /** Set when the body carried an error (an SSE `error` event, an exception frame). */
  readonly streamError?: string;
  /** The model the response says served it, if it says. */
  readonly model?: string;
  /**
   * False while the answer's own final usage report has not been read (a stream the client
   * or the upstream cut before it, a service that never reports): `usage` is then only what
   * was reported so far, and core completes it with estimates (`core/stream/estimated-usage.ts`).
   * Left undefined, `usage` is taken as it is.
   */
  readonly usageFinal?: boolean;
  /** Output tokens estimated from the answer read so far; used while `usageFinal` is false. */
  readonly estimatedOutputTokens?: number;
}

/**
 * A file upload's body as it arrives from the client (`ctx.upload`): forward it as the
 * request body (`forwardUpstream` takes it in place of `ctx.body`). It can be read once:
 * nothing retries or resends it.
 */
export interface RequestUpload extends AsyncIterable<Uint8Array> {
  /** The client's `content-length`, when it sent one (HTTP/1.1 chunked and HTTP/2 may not). */
  readonly declaredLength: number | undefined;
  /** Bytes read from the client so far; the outcome's `bytesIn` at the end. */
  readonly bytesRead: number;
}

/** What a provider answers: a head and a body that core streams to the client. */
export interface ProviderResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: AsyncIterable<Uint8Array> | Uint8Array | null;
  /** Fed every body chunk by core, beside the byte flow. */
  meter?: UsageMeter;
}

/** An OpenAI-format chat request, for providers that serve the unified endpoint. */
export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly unknown[];
  readonly stream?: boolean;
  readonly [field: string]: unknown;
}

/** A provider instance, made once per config generation. */
export interface Provider {
  /** The dialect of the provider's native API: errors on its pass-through route use it. */
  readonly dialect: Dialect;
  /**
   * The dialect of a path under the route prefix that speaks another API than the
   * provider's own (Bedrock's `/anthropic/v1/messages` is Anthropic's Messages API), chosen
   * when the request arrives so every error on it, the filters' included, is in that API's
   * shape. Undefined keeps {@link dialect}. Called per request: a prefix test, no more.
   * @example
   * dialectFor: (subpath) => (subpath.startsWith('/anthropic/') ? anthropicDialect : undefined)
   */
  dialectFor?(subpath: string): Dialect | undefined;
  /** False when credentials are missing; requests then get a 503 in the provider's dialect. */
  readonly configured: boolean;
  /** Capabilities shown in `/v1/providers` (`messages`, `streaming`, `tools`, …). */
  readonly features: readonly string[];
  /** Shown wherever the provider is listed; true for the built-in `echo`. */
  readonly diagnostic?: boolean;
  models(): readonly ModelInfo[];
  health(): Promise<ProviderHealth>;
  /** Extra public facts for `/v1/providers` (region, credential source); never secrets. */
  describe?(): Record<string, unknown>;
  /**
   * Classify a request before the filter chain: set `ctx.model`, `ctx.stream`, `ctx.kind`.
   * Called for pass-through routes; may read `ctx.jsonShape()` (or `ctx.json()` for the
   * text); throw a `GatewayError` to refuse.
   */
  inspect?(ctx: RequestContext): void;
  /**
   * The base model id `model` spells another way (a Bedrock profile `us.anthropic.…` or
   * ARN), else undefined: the unified endpoint sets `ctx.baseModel` from it, as `inspect`
   * does on the pass-through route, so a price or an allowlist entry for the base id covers
   * a unified request too.
   */
  baseModel?(model: string): string | undefined;
  /**
   * Whether a pass-through request's body is a file upload, decided from its method and
   * subpath before a byte of the body is read. An upload's body is held to
   * `server.max_upload_bytes` instead of `max_body_bytes` and streamed to the upstream as
   * it arrives: `ctx.body` stays empty, `ctx.upload` holds the stream, `inspect` must not
   * read the body, and the request is sent once (no retry, no fallback). Never true for a
   * request that generates tokens: its body must be read for policy.
   * @example
   * isUpload(method, subpath) { return method === 'POST' && subpath === '/v1/files'; }
   */
  isUpload?(method: string, subpath: string): boolean;
  /** Serve a request to the provider's native API under its route prefix. */
  passthrough?(ctx: RequestContext): Promise<ProviderResponse>;
  /**
   * Serve a unified (OpenAI-format) chat request; answers in OpenAI format. `strings` says
   * how the request's strings are held: as text unless {@link chatTakesBytes}.
   */
  chat?(ctx: RequestContext, request: ChatRequest, strings: BodyStrings): Promise<ProviderResponse>;
  /**
   * `chat()` may be given the request as `ctx.jsonShape()` holds it, strings as UTF-8 bytes
   * (`strings.form` is then `bytes`), so a prompt outside ASCII is never decoded. Only for
   * a `chat()` that passes text on untouched, reads it through `strings.text`, parses nested
   * JSON with `strings.parse` and sends what it builds as `strings.serialize` gives it.
   */
  readonly chatTakesBytes?: boolean;
  /**
   * Client request headers (lower-cased) this provider sends upstream because its config
   * opts them in (`forward_headers`). On the unified endpoint they are all a translating
   * provider sends of the client's, and an upstream or proxy may answer or bill by them, so
   * the response cache keys on them. Omit when there are none.
   * @example
   * forwardedHeaders: ['x-workspace-id']
   */
  readonly forwardedHeaders?: readonly string[];
  close?(): Promise<void> | void;
}

/** A provider module's default export. */
export interface ProviderPlugin<C = Record<string, unknown>> {
  readonly name: string;
  readonly apiVersion?: number;
  /** Route prefix used when the config gives none, e.g. `/v1/claude`. */
  readonly defaultPrefix?: string;
  /**
   * Models this provider serves on the unified endpoint by default, as globs where `*`
   * matches any run of characters; a provider entry's `model_patterns` replaces them.
   * @example
   * modelPatterns: ['claude-*']
   */
  readonly modelPatterns?: readonly string[];
  readonly configSchema?: JsonSchema;
  /**
   * {@link Provider.baseModel} without an instance, for the CLIs that price and judge audit
   * lines (`replay`, `ledger rebuild`) as the running gateway did.
   */
  baseModel?(model: string): string | undefined;
  create(config: C, env: PluginEnv): Provider | Promise<Provider>;
}
