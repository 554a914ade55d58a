/**
 * The plugin contract: every built-in filter and provider is written against these types,
 * exactly as a third-party plugin is. Exported from the package entry point.
 */
import type { Dispatcher } from 'undici';
import type { GatewayError } from './errors.js';
import type { MetricsFactory } from './metrics-factory.js';
import type { Logger } from './logger.js';
import type { GatewayConfig } from './config/types.js';
import type { SingleWriters } from './cluster/single-writer.js';
import type { Provider } from './provider-types.js';
import type { RequestContext } from './request-context.js';
import type { PluginEndpoint } from './endpoint-types.js';

export * from './provider-types.js';
export type { EndpointRequest, EndpointResponse, PluginEndpoint } from './endpoint-types.js';
export type { RequestContext, TargetChoice } from './request-context.js';

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
 * - `auxiliary`: an AI-route call that does not generate now (count_tokens, model lists,
 *   telemetry, a batch of generations to run later: see {@link BatchSubmission})
 * - `operational`: gateway endpoints such as `/v1/usage`; never audited
 */
export type RequestKind = 'generation' | 'auxiliary' | 'operational';

/**
 * Generations that one `auxiliary` request submits to run later (a batch create). Their
 * tokens are known only when the batch ends, so limits and budgets do not count them; but
 * a policy filter must judge each one as the request it stands for (the validator does), or
 * a batch is a way around it. Set by the provider's `inspect` on `ctx.batch`.
 * @example
 * // Anthropic's Message Batches: `{ requests: [{ custom_id, params: { model, max_tokens, … } }] }`
 * ctx.batch = { inline: { list: ['requests'], body: ['params'] } };
 * // OpenAI's Batch API: the requests are in an uploaded file the gateway cannot read
 * ctx.batch = { file: 'input_file_id' };
 * // Gemini's `models/gemini-2.5-flash:batchGenerateContent`: the model in the path, requests
 * // that may name their own as `models/…`
 * ctx.batch = {
 *   inline: { list: ['batch', 'inputConfig', 'requests', 'requests'], body: ['request'] },
 *   model: { name: 'gemini-2.5-flash', field: 'model' },
 *   modelName: (named) => named.replace(/^models\//, ''),
 * };
 * // Bedrock's StartAsyncInvoke: one generation, `{ modelId, modelInput: <the model's body> }`
 * ctx.batch = { single: ['modelInput'], model: { name: 'amazon.nova-reel-v1:1', field: 'modelId' } };
 */
export interface BatchSubmission {
  /**
   * Where the generations sit in this request's body: the array at `list`, and in each of
   * its items the generation's own request body at `body`. Absent when the body does not
   * hold them, and nobody here can judge them.
   */
  readonly inline?: { readonly list: readonly string[]; readonly body: readonly string[] };
  /**
   * Where the body of the one generation sits, for a request that submits a single one to
   * run later; its model is {@link BatchSubmission.model}, not a member of that body.
   */
  readonly single?: readonly string[];
  /**
   * The body's field that names where generations are that are not in the body (an
   * uploaded file), for a refusal to point at. With `inline` too, the body holds some of
   * them and names a file of more.
   */
  readonly file?: string;
  /**
   * The model the generations run on unless one names its own, where the request names one
   * for all of them (in its path, or a job-level field): the name as `ctx.model` holds a
   * single request's, and the field a refusal names; `base`, the base model id the name
   * spells another way, as `ctx.baseModel` holds a single request's.
   */
  readonly model?: { readonly name: string; readonly field: string; readonly base?: string };
  /**
   * The agent the generations run on unless one names its own model or agent, where the
   * request names one for all of them instead of a model (Mistral's job-level `agent_id`):
   * judged as `ctx.agent` is, and `field` is what a refusal names. An inline request may
   * name its own agent as `agent_id`, as a single agents request does.
   */
  readonly agent?: { readonly id: string; readonly field: string };
  /**
   * How an inline request's own `model` names its model as `ctx.model` would, where the two
   * differ (Gemini's `models/gemini-2.5-pro` is `gemini-2.5-pro`). Absent: as written.
   */
  readonly modelName?: (named: string) => string;
}

/** Token counts for one request. Cache counts are separate from `inputTokens`. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /**
   * Of `cacheCreationTokens`, those written to the 1-hour cache, billed at a higher rate
   * (Anthropic's `cache_creation.ephemeral_1h_input_tokens`). Absent when the answer gives
   * no split: every write is then a 5-minute one.
   */
  cacheCreation1hTokens?: number;
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
  /**
   * Present on an upstream attempt's cancellation when resilience timers run: core's
   * upstream call (`forwardUpstream`) tells it when the response head comes, as each body
   * chunk arrives and when the body ends. So the headers timer stops at the head, and a body
   * the provider reads itself before answering (a translated JSON answer) is under the idle
   * timer, not the headers one. A provider that calls `forwardUpstream` has nothing to do.
   */
  upstreamProgress?(event: UpstreamProgress): void;
}

/** What an upstream call has received: see {@link Cancellation.upstreamProgress}. */
export type UpstreamProgress = 'head' | 'data' | 'end';

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
  /** True when the answer ended before its own final usage report and `usage` holds the gateway's estimates. */
  readonly usageEstimated?: boolean;
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
   * or `reply(...)` to answer now. Throwing is treated as an internal error reply, and so
   * is returning anything else (a plain JavaScript plugin's `{ action: 'deny' }`, `false`).
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
  /**
   * `onRequest` reads nothing parsed from the body: not `ctx.json()`, `ctx.jsonPick()` nor
   * what the provider's inspect reads from it (`ctx.model`, `ctx.maxOutputTokens`,
   * `ctx.stream`, …, all still unset); the body's bytes (`ctx.body`) are there. The filters
   * at the head of the chain that declare it run before the body is parsed, so that their
   * refusals (`network`, `auth`) cost no parse: JSON.parse of a dense 16 MiB body takes
   * seconds, and whoever can reach the port could send one.
   */
  readonly beforeParse?: boolean;
}

/** Runtime-lifetime objects that outlive any one pipeline (counters, caches, pools). */
export interface SharedState {
  /** Get the object stored under `key`, creating it with `create` the first time. */
  get<T>(key: string, create: () => T, options?: SharedOptions): T;
}

export interface SharedOptions {
  /**
   * Close (its `close()`, if any) and forget the object once no live pipeline generation
   * has asked for `key`: for an object that holds a connection, keyed by its settings, which
   * a reload that changes them leaves behind. Ask in `create()`, not per request: a
   * generation holds only what it asked for.
   */
  closeWhenUnused?: boolean;
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
  /**
   * A keep-alive pool for an upstream origin, shared across reloads that keep its origin and
   * options; one no config asks for any more is closed once the pipelines that used it drain.
   * Ask in `create()`, not per request.
   */
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
  /**
   * True when `create()` runs only to check the config (`ai-gateway validate`): the instance
   * is closed without serving a request. Check what you can, but open no connection and
   * write no file: `upstream()` pools refuse to connect, `singleWriters` write nothing, and
   * `storeFor(env)` is a memory store whatever the config's `store`.
   * @example
   * const client = env.validating ? undefined : await connect(config.url);
   */
  readonly validating?: boolean;
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
