/**
 * The plugin contract: every built-in filter and provider is written against these types,
 * exactly as a third-party plugin is. Exported from the package entry point.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GatewayError } from './errors.js';
import type { Dialect } from './dialect.js';
import type { MetricsFactory } from './metrics-factory.js';
import type { Logger } from './logger.js';
import type { GatewayConfig } from './config/types.js';
import type { SingleWriters } from './cluster/single-writer.js';
import type { Provider } from './provider-types.js';
import type { RewritableBody } from './json-body.js';
import type { JsonReads } from './json-pick/reads.js';
import type { JsonCheck } from './json-pick/check.js';

export * from './provider-types.js';

/** The version of this contract; a plugin may declare `apiVersion` and is refused if it differs. */
export const PLUGIN_API_VERSION = 1;

/** A JSON Schema object as ajv accepts it. */
export type JsonSchema = Record<string, unknown>;

/** A value now, or later: what a hook or a store answers, synchronously when it can. */
export type MaybePromise<T> = T | Promise<T>;

/** Who is asking, as resolved by an identity filter. */
export interface Identity {
  readonly user: string;
  readonly workspace: string;
  readonly project?: string;
  /** How the identity was proven: `header`, `key`, `sigv4`, … */
  readonly source: string;
}

/**
 * What a request is, as far as policy cares:
 * - `generation`: produces tokens (Messages, InvokeModel, chat completions); counted by limits
 * - `auxiliary`: an AI-route call that does not generate (count_tokens, model lists, telemetry)
 * - `operational`: gateway endpoints such as `/v1/usage`; never audited
 */
export type RequestKind = 'generation' | 'auxiliary' | 'operational';

/** Token counts for one request. Cache counts are separate from `inputTokens`. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/** A typed slot on the request context; make one per piece of state with {@link createKey}. */
export interface ContextKey<T> {
  readonly name: string;
  /** Phantom field carrying the slot's type; never set. */
  readonly __type?: T;
}

/**
 * Make a typed context slot.
 * @example
 * const QUOTA = createKey<{ remaining: number }>('rate-limit.quota');
 * ctx.set(QUOTA, { remaining: 5 }); ctx.get(QUOTA)?.remaining;
 */
export function createKey<T>(name: string): ContextKey<T> {
  return Object.freeze({ name }) as ContextKey<T>;
}

/** The route a request matched, as compiled from the config. */
export interface RouteInfo {
  readonly name: string;
  /** `passthrough`: a provider's native API under a prefix; `unified`: the OpenAI-compatible endpoint; `operational`: gateway endpoints. */
  readonly mode: 'passthrough' | 'unified' | 'operational';
  /** The provider instance name this route targets, if any. */
  readonly provider?: string;
  /** The matched path prefix, e.g. `/v1/claude`. */
  readonly prefix?: string;
}

/** Response status and headers, mutable by filters' `onResponse` before they are written. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string | string[]>;
}

/** Observes a response body as it streams to the client (e.g. to fill a cache). */
export interface BodyObserver {
  onData(chunk: Uint8Array): void;
  /** `complete` is false when the stream ended early (abort, upstream failure). */
  onEnd(complete: boolean): void;
}

/**
 * A request's cancellation as an EventEmitter-like listener interface, the shape undici
 * takes as a request's `signal`. `once('abort', fn)` runs `fn` when the client goes away.
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  on(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

/**
 * Per-request state handed to every hook. Filters read the request, resolve `identity`,
 * keep their own state in typed slots (`get` / `set`) and never mutate the raw body.
 */
export interface RequestContext {
  /** `x-request-id`: the client's if valid, otherwise generated. Returned on every response. */
  readonly id: string;
  /** Wall-clock start, epoch milliseconds. */
  readonly startedAt: number;
  readonly method: string;
  /** The request path without the query string, exactly as received. */
  readonly path: string;
  /** The raw query string without `?`, or `''`. */
  readonly query: string;
  /** The path after the route's prefix (`/v1/messages` for `/v1/claude/v1/messages`). */
  readonly subpath: string;
  /** Request headers, lower-cased, HTTP/2 pseudo-headers removed. */
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
  readonly remoteAddress: string;
  readonly route: RouteInfo;
  /** The API dialect errors are rendered in for this route. */
  readonly dialect: Dialect;
  /**
   * Aborted when the client goes away. Made on first read: an AbortSignal is costly, so
   * upstream calls take {@link RequestContext.cancellation} instead where they can.
   */
  readonly signal: AbortSignal;
  /**
   * The same cancellation as `signal` as a listener interface, with no AbortSignal made:
   * pass it as `signal` to `forwardUpstream` (undici accepts it).
   */
  readonly cancellation: Cancellation;
  /**
   * The raw request body bytes (empty for bodiless requests). Forward these, do not
   * re-serialize. Let go (empty) once a provider's answer begins to flow to the client:
   * read what `onComplete` needs in `onRequest`; the outcome's `bytesIn` keeps the size.
   */
  readonly body: Buffer;
  /**
   * The body parsed as JSON on first call and kept until the provider has been called;
   * then it is let go (a request need not hold its parsed JSON while the provider thinks
   * and streams), and a call after that parses the bytes again. Read what `onComplete`
   * needs in `onRequest`. Throws a 400 `GatewayError` if it is not JSON.
   */
  json(): unknown;
  /**
   * The body's structure without decoding its text: each string holding characters outside
   * ASCII reads as its UTF-8 bytes, one character per byte (`shapeText(s)` gives the text;
   * `.length` counts bytes; a lone surrogate, which UTF-8 cannot carry, reads as U+FFFD).
   * For an ASCII body (unless `\u` escapes spell characters outside ASCII) it is `json()`'s
   * own tree: one parse. Objects, keys, numbers, booleans and ASCII strings
   * are exact. For checks of shape — schema, model, stream flag, output cap — of prompts
   * whose text nobody reads: decoding UTF-8 costs several times the parse on Node 20.
   * Refuses exactly what `json()` refuses; let go with it.
   * @example
   * const body = ctx.jsonShape() as { max_tokens?: unknown };
   */
  jsonShape(): unknown;
  /**
   * The parts of `jsonShape()` that `reads` looks at (see `JsonReads`), read from the bytes
   * without building the rest: for a reader of a few fields of a large body (a model name,
   * a schema's roles and block types) where a coding agent's turn is mostly tools and tool
   * results nobody here looks at. Wherever `reads` looks the value is `jsonShape()`'s;
   * elsewhere each value keeps its JSON type, emptied. Refuses exactly what `jsonShape()`
   * refuses. May be `jsonShape()` itself (a small body, or one already parsed).
   * @example
   * const body = ctx.jsonPick({ members: { model: { text: true }, max_tokens: {} } }) as { model?: unknown };
   */
  jsonPick(reads: JsonReads): unknown;
  /**
   * True when the body certainly satisfies the JSON Schema `check` was compiled from
   * (`compileJsonCheck`), judged on the bytes without building the body; false when it
   * does not or this cannot tell cheaply (a small body, one already parsed, one that is not
   * JSON): judge it another way then (`jsonPick` and the schema's validator).
   * @example
   * if (!ctx.jsonCheck(check)) judgeWithAjv(ctx.jsonPick(reads));
   */
  jsonCheck(check: JsonCheck): boolean;
  /**
   * The parsed body to build another body from without decoding its text (a rewrite, a
   * translation): `jsonShape()` with `BYTE_STRINGS` when the shape holds every string as
   * exactly its UTF-8 bytes, else `json()` with `TEXT_STRINGS` (a body whose `\u` escapes
   * spell characters outside ASCII). Send `strings.serialize(…)` of what is built: it copies
   * the request's long strings as they came rather than escaping them again.
   * @example
   * const { value, strings } = ctx.rewritableBody();
   * ctx.replaceBody(strings.serialize({ ...(value as object), max_tokens: 1024 }));
   */
  rewritableBody(): RewritableBody;
  /**
   * Replace the bytes forwarded upstream (the one sanctioned rewrite, e.g. a validator
   * clamping `max_tokens`). `json()` re-parses the new bytes on its next call. Use only
   * when a policy demands it: pass-through otherwise forwards the client's bytes untouched.
   * @example
   * ctx.replaceBody(Buffer.from(JSON.stringify({ ...body, max_tokens: 4096 })));
   */
  replaceBody(body: Buffer): void;
  /** Set by an identity filter; read by every later filter and the audit line. */
  identity: Identity | undefined;
  /** The model the request asks for, once known (set by the provider's `inspect`). */
  model: string | undefined;
  /**
   * The provider instance that serves the request: the route's on a pass-through route,
   * the one chosen by model (or `X-Provider`) on the unified endpoint, set before the
   * filter chain runs. `undefined` when none was chosen (unknown model, gateway endpoint).
   */
  provider: string | undefined;
  /** Whether the client asked for a streamed response. */
  stream: boolean;
  /**
   * The output-token cap the request asks for (`max_tokens` or its dialect's name), set by
   * `inspect`. Only a token count is kept (a finite number from 0 to a billion): a negative
   * or infinite cap reads back as `undefined`, and the upstream judges the request.
   */
  maxOutputTokens: number | undefined;
  kind: RequestKind;
  get<T>(key: ContextKey<T>): T | undefined;
  set<T>(key: ContextKey<T>, value: T): void;
  /** Watch the response body as it passes (filters only; cheap when unused). */
  observeBody(observer: BodyObserver): void;
}

/** Continue down the chain. Returning nothing means the same. */
export interface ContinueVerdict {
  readonly action: 'continue';
}
/** A complete response produced by a filter (a cached reply, say). */
export interface FilterResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Token usage this reply represents, for the outcome (0 for a cache hit that costs nothing). */
  usage?: Partial<TokenUsage>;
}
/** Stop the chain and answer: an error rendered in the route's dialect, or a full response. */
export interface ReplyVerdict {
  readonly action: 'reply';
  readonly error?: GatewayError;
  readonly response?: FilterResponse;
}
export type FilterVerdict = ContinueVerdict | ReplyVerdict;

/** Why a request ended the way it did; `undefined` in {@link Outcome.error} means success. */
export type ErrorKind =
  | 'rejected' // a filter or the gateway refused it (4xx of its own)
  | 'not_found'
  | 'client_abort'
  | 'upstream_error' // connection refused, reset, malformed
  | 'upstream_timeout'
  | 'upstream_status' // upstream answered with an error status
  | 'stream_error' // an error event inside a 200 stream
  | 'unavailable'
  | 'internal';

/** The one final record of a request, handed to every filter's `onComplete` exactly once. */
export interface Outcome {
  /** The status the client saw (499 when it went away first). */
  readonly status: number;
  readonly error?: { readonly kind: ErrorKind; readonly code: string; readonly message: string };
  /** Name of the filter that replied, when one did. */
  readonly repliedBy?: string;
  readonly provider?: string;
  readonly model?: string;
  readonly stream: boolean;
  readonly usage: TokenUsage;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Milliseconds from arrival to the last byte (or abort). */
  readonly durationMs: number;
  /** Milliseconds from arrival to the response head being written, if it was. */
  readonly ttfbMs?: number;
  /** Milliseconds spent waiting on the upstream (call start to body end). */
  readonly upstreamMs: number;
  /** The provider instance that served the request (or was tried last); differs from `provider` after a fallback. */
  readonly target?: string;
  /** Upstream attempts made, retries and fallbacks included; absent when none was made. */
  readonly attempts?: number;
}

/**
 * A filter instance, made once per config generation (and per route override).
 * Hooks may return plain values: the chain takes a synchronous fast path when they do.
 */
export interface Filter {
  /**
   * Runs before the provider, in config order. Return `undefined`/`CONTINUE` to go on,
   * or `reply(...)` to answer now. Throwing is treated as an internal error reply.
   * @example
   * onRequest(ctx) { return ctx.identity ? CONTINUE : reply(new GatewayError('GW_ERR_AUTH_MISSING')); }
   */
  onRequest?(ctx: RequestContext): FilterVerdict | void | Promise<FilterVerdict | void>;
  /**
   * Runs for every filter that let the request through, before the response head is
   * written, for provider responses and error replies alike. May add or replace headers.
   * @example
   * onResponse(ctx, head) { head.headers['x-quota-remaining'] = '41'; }
   */
  onResponse?(ctx: RequestContext, head: ResponseHead): void | Promise<void>;
  /**
   * Runs exactly once per request that reached the chain's route (served, rejected,
   * failed, aborted, 404 and 413 included). Must not throw; errors are logged.
   * @example
   * onComplete(ctx, outcome) { log.info('done', { status: outcome.status }); }
   */
  onComplete?(ctx: RequestContext, outcome: Outcome): void;
  /** The pipeline this filter belongs to was retired and has drained. */
  close?(): Promise<void> | void;
  /** Contribute to `GET /v1/usage` for the caller (e.g. remaining limits). */
  usage?(ctx: RequestContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** HTTP endpoints this filter serves beside `/health` and `/metrics` (an admin API, a dashboard). */
  endpoints?: readonly PluginEndpoint[];
  /**
   * Lets the chain start this filter's `onRequest` while the filter just before it, also
   * independent, still waits on its store: their round trips go out together instead of
   * one after the other (two limiters on a shared store). Declare it only when:
   * - `onRequest` changes nothing on the request that another filter reads (its own
   *   `ctx.set` keys are fine), so the order between such filters does not matter;
   * - `onComplete` makes good what `onRequest` did when another filter refused the request
   *   (it runs for every request), as it must anyway for a refusal after this filter;
   * - refusals are counted and logged in `onComplete` (`outcome.error.code`): after an
   *   earlier filter's refusal, this filter's verdict is waited for, then dropped.
   */
  readonly independent?: boolean;
}

/** A request to a {@link PluginEndpoint}: read whole (bodies up to 64 KiB), headers lower-cased. */
export interface EndpointRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a {@link PluginEndpoint} answers. `cache-control: no-store` is added unless set. */
export interface EndpointResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

/**
 * An HTTP endpoint served by a plugin: no route, no filter chain, no identity, not
 * audited (it is not AI traffic), so it must check its own authorization. Served on the
 * main port, or only on the operational listener when `server.admin.endpoints` lists
 * `plugins`. The current pipeline's endpoints answer, so a reload swaps them too.
 * @example
 * endpoints: [{ path: '/admin/', handle: (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }) }]
 */
export interface PluginEndpoint {
  /** An exact path (`/dashboard`) or, ending in `/`, a prefix (`/admin/`). */
  readonly path: string;
  handle(req: EndpointRequest): EndpointResponse | Promise<EndpointResponse>;
}

/** Runtime-lifetime objects that outlive any one pipeline (counters, caches, pools). */
export interface SharedState {
  /** Get the object stored under `key`, creating it with `create` the first time. */
  get<T>(key: string, create: () => T): T;
}

/** Options for an upstream connection pool. */
export interface UpstreamOptions {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connections?: number;
}

/** What the core hands a plugin when it is created. */
export interface PluginEnv {
  readonly log: Logger;
  /** Get-or-create Prometheus metrics in the gateway's registry. */
  readonly metrics: MetricsFactory;
  readonly shared: SharedState;
  /** A keep-alive pool for an upstream origin, shared across reloads. */
  upstream(origin: string, options?: UpstreamOptions): Dispatcher;
  /** Directory of the config file, for resolving relative paths. */
  readonly configDir: string;
  readonly gatewayVersion: string;
  /** Names and types of the providers in this config generation. */
  readonly providers: ReadonlyMap<string, Provider>;
  /** The whole validated config, for plugins that read a top-level section (`rate_limits`, `workspaces`). */
  readonly config: Readonly<GatewayConfig>;
  /**
   * Writers that must exist once per machine (an append-only file, an embedded database):
   * local in a single process, in the cluster primary when `server.workers` > 1.
   * @example
   * const sink = env.singleWriters.open(fileSink, file, { file });
   * sink.write(line); // later: await sink.close();
   */
  readonly singleWriters: SingleWriters;
}

/**
 * A filter module's default export.
 * @example
 * export default {
 *   name: 'stamp', apiVersion: 1,
 *   configSchema: { type: 'object', properties: { value: { type: 'string' } }, additionalProperties: false },
 *   create(config) { return { onResponse(ctx, head) { head.headers['x-stamp'] = config.value; } }; },
 * } satisfies FilterPlugin<{ value: string }>;
 */
export interface FilterPlugin<C = Record<string, unknown>> {
  readonly name: string;
  readonly apiVersion?: number;
  /** Validated by ajv (with defaults applied) before `create` runs. */
  readonly configSchema?: JsonSchema;
  create(config: C, env: PluginEnv): Filter | Promise<Filter>;
}
