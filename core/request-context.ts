/**
 * The request as every hook sees it: the plugin contract's largest part, apart from the
 * rest of it (types.ts, which re-exports it).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dialect } from './dialect.js';
import type { RewritableBody } from './json-body.js';
import type { JsonCheck } from './json-pick/check.js';
import type { JsonReads } from './json-pick/reads.js';
import type { UpstreamConversation } from './conversation.js';
import type { SideCallAdmission } from './resilience/side-call.js';
import type { BatchSubmission, BodyObserver, Cancellation, ContextKey, Identity, RequestKind, RequestUpload, RouteInfo } from './types.js';

/** A place a request may be served: a provider instance and, on the unified endpoint, the model an alias's target sends (absent: `ctx.model`). */
export interface TargetChoice {
  readonly provider: string;
  readonly model?: string;
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
  /** The client's connection to the gateway is TLS (whatever a proxy in front says). */
  readonly encrypted: boolean;
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
   * A file upload's body, streamed rather than read (`Provider.isUpload`); `body` is then
   * empty. Undefined for every other request.
   */
  readonly upload: RequestUpload | undefined;
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
   * The base model id `model` names when the request spells it another way (a Bedrock
   * cross-region inference profile `us.anthropic.…`, or an ARN), set by the provider's
   * `inspect`: a policy keyed by model (an allowlist, a price) that does not match `model`
   * as written matches this, so an entry for the base id covers all its spellings.
   */
  baseModel: string | undefined;
  /**
   * An agent the request runs on instead of a named model (Mistral's `agent_id`), set by
   * the provider's `inspect`: the agent's model is known upstream only, until an answer
   * names it. A model allowlist judges such a request as `agent:<id>`.
   */
  agent: string | undefined;
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
  /**
   * How many completions the request asks for, each up to `maxOutputTokens`: OpenAI's `n`
   * (and `best_of` on completions), Gemini's `generationConfig.candidateCount`; set by
   * `inspect`, 1 unless the request asks for more. A worst-case reservation is the cap
   * times this (`worstCaseOutputTokens`, what the rate limiter and budgets reserve); a check
   * of the cap itself (the validator's `max_tokens`) reads `maxOutputTokens` alone. Assign
   * what the client sent: anything below 1 reads back as 1, a fraction as the next whole
   * number, at most a billion.
   * @example
   * if (typeof body.n === 'number') ctx.outputChoices = body.n;
   */
  outputChoices: number;
  kind: RequestKind;
  /**
   * For a request that submits generations to run later (a batch create, `auxiliary`), where
   * they are, set by `inspect`; undefined for any other request.
   */
  batch: BatchSubmission | undefined;
  /**
   * The conversation the upstream keeps that this generation begins or continues, set by
   * `inspect`; undefined for any other request. A start sets it only when it names a
   * model or an agent; a continuation leaves `model` and `agent` unset: a model policy
   * asks this what it runs on.
   */
  conversation: UpstreamConversation | undefined;
  /**
   * How long a provider's own upstream call made for this request before it is sent (a
   * lookup) may wait for its answer: the serving provider's `resilience.timeouts`
   * (`headers_ms`, or `total_ms` when shorter) with the route's override, as its attempts
   * get; 0 when no gateway timer is set. Such a call is outside the attempts' timers.
   * @example
   * const ms = ctx.sideCallTimeoutMs; const signal = ms > 0 ? AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)]) : ctx.signal;
   */
  readonly sideCallTimeoutMs: number;
  /**
   * Lets such a call through the serving provider's circuit breaker and retry budget, as an
   * attempt is: throws `GW_ERR_UPSTREAM_CIRCUIT_OPEN` while the breaker is open, and what is
   * reported counts toward opening it (a 5xx, no connection, a timeout, a body cut after
   * its head) or closing it. With no breaker configured, reports go nowhere. A try made
   * again asks `retry(end)` first (a place in the budget, counted in
   * `gateway_upstream_retries_total` as an attempt's retry is) and `again()` before it
   * (the breaker's word on the new try); `release()` the call once it is over.
   * @example
   * const call = ctx.admitSideCall();
   * try {
   *   let res;
   *   try { res = await forwardUpstream(pool, request); } catch (err) { const error = toGatewayError(err); call.report({ error }); throw error; }
   *   call.report({ status: res.status });
   * } finally {
   *   call.release();
   * }
   */
  admitSideCall(): SideCallAdmission;
  /**
   * Where weighted balancing may send the request's first attempt when its targets share
   * the lowest priority (a route's `targets`, an alias's), `ctx.provider` first; undefined
   * when one target comes first. Set before the filter chain runs.
   */
  readonly balanced: readonly TargetChoice[] | undefined;
  get<T>(key: ContextKey<T>): T | undefined;
  set<T>(key: ContextKey<T>, value: T): void;
  /** Watch the response body as it passes (filters only; cheap when unused). */
  observeBody(observer: BodyObserver): void;
}
