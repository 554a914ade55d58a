/**
 * The request context: the public {@link RequestContext} plus the bookkeeping core needs
 * to build the one {@link Outcome}. One object per request, fields fixed at construction
 * so V8 keeps a single shape.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RequestAbort } from './abort.js';
import { GatewayError } from './errors.js';
import { byteStringsWith, exactJson, readShape, TEXT_STRINGS, type RewritableBody, type Shape } from './json-body.js';
import type { Dialect } from './dialect.js';
import type { TargetChoice } from './request-context.js';
import { pick } from './json-pick/pick.js';
import type { JsonReads } from './json-pick/reads.js';
import { readTape, type Tape } from './json-pick/tape.js';
import { choiceCount, isTokenCount } from './token-count.js';
import { checkTape, type JsonCheck } from './json-pick/check.js';
import { DENSITY_CHECK_MIN, tooComplexJson } from './json-density.js';
import type { UpstreamConversation } from './conversation.js';
import type { UploadBody } from './upload-body.js';
import { UNWATCHED, type SideCallAdmission } from './resilience/side-call.js';
import type {
  BatchSubmission,
  BodyObserver,
  ContextKey,
  Identity,
  RequestContext,
  RequestKind,
  RouteInfo,
  TokenUsage,
} from './types.js';

const EMPTY = Buffer.alloc(0);
const UNPARSED = Symbol('unparsed');
/**
 * Below this a body's shape is built whole for {@link Context.jsonPick}: the
 * scanner's pass and the pick cost more than JSON.parse of so little.
 */
const PICK_MIN_BODY = 2048;

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 };
}

export interface ContextInit {
  id: string;
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  httpVersion: string;
  remoteAddress: string;
  /** The connection is TLS; false when not given. */
  encrypted?: boolean;
  route: RouteInfo;
  subpath: string;
  dialect: Dialect;
  arrivedAt: number;
  /** The route's resilient upstream, whose timers bound {@link Context.sideCallTimeoutMs}. */
  upstream?: { headTimeoutMs(provider: string | undefined): number; admitSideCall(provider: string): SideCallAdmission; readonly targets?: { readonly balanced: readonly TargetChoice[] | undefined } };
}

export class Context implements RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
  readonly remoteAddress: string;
  readonly encrypted: boolean;
  readonly route: RouteInfo;
  readonly subpath: string;
  readonly dialect: Dialect;
  /** Fired by core when the client goes away. */
  readonly cancellation = new RequestAbort();
  body: Buffer = EMPTY;
  upload: UploadBody | undefined = undefined;
  identity: Identity | undefined = undefined;
  model: string | undefined = undefined;
  baseModel: string | undefined = undefined;
  agent: string | undefined = undefined;
  provider: string | undefined;
  stream = false;
  private outputCap: number | undefined = undefined;
  private choices = 1;
  kind: RequestKind = 'generation';
  batch: BatchSubmission | undefined = undefined;
  conversation: UpstreamConversation | undefined = undefined;
  balanced: readonly TargetChoice[] | undefined;

  // Bookkeeping for the outcome; not part of the public contract.
  /** performance.now() at arrival. */
  readonly arrivedAt: number;
  status = 0;
  headWrittenAt = 0;
  upstreamStartedAt = 0;
  upstreamEndedAt = 0;
  bytesOut = 0;
  usage: TokenUsage = emptyUsage();
  /** `usage` holds estimates: the answer ended before its own final usage report. */
  usageEstimated = false;
  /** Bytes reserved for this request's body in the gateway's body budget (core/body-budget.ts). */
  heldBodyBytes = 0;
  error: GatewayError | undefined = undefined;
  streamError: string | undefined = undefined;
  repliedBy: string | undefined = undefined;
  /** The provider instance the last upstream attempt went to, and how many attempts were made. */
  target: string | undefined = undefined;
  attempts = 0;
  /** How many filters (in chain order) let the request through; they get `onResponse`. */
  admitted = 0;
  observers: BodyObserver[] | undefined = undefined;

  private parsed: unknown = UNPARSED;
  /**
   * {@link jsonShape}'s reading: its tree (`parsed` itself for an ASCII body), how it was read
   * and the long strings' literals, both for {@link rewritableBody}.
   */
  private shape: Shape | undefined = undefined;
  /** {@link jsonPick}'s structure of the body; null when it has none (the shape answers). */
  private tape: Tape | null | undefined = undefined;
  /** The large body {@link parsable} last counted, and its refusal if it got one. */
  private countedBody: Buffer = EMPTY;
  private countRefusal: GatewayError | undefined = undefined;
  /** The body's size once {@link releaseBody} let the bytes go; -1 while they are held. */
  private releasedBytes = -1;
  /**
   * Filters' slots as key, value, key, value…: a request sets a handful (auth, limiter,
   * cost, session, path), which a scan finds as fast as a Map hashes, and a Map's table
   * plus its growth past four keys cost ~450 bytes per request against this array's ~200.
   */
  private slots: unknown[] | undefined = undefined;
  private readonly upstream: ContextInit['upstream'];

  constructor(init: ContextInit) {
    this.id = init.id;
    this.startedAt = Date.now();
    this.method = init.method;
    this.path = init.path;
    this.query = init.query;
    this.headers = init.headers;
    this.httpVersion = init.httpVersion;
    this.remoteAddress = init.remoteAddress;
    this.encrypted = init.encrypted === true;
    this.route = init.route;
    this.provider = init.route.provider;
    this.subpath = init.subpath;
    this.dialect = init.dialect;
    this.arrivedAt = init.arrivedAt;
    this.upstream = init.upstream;
    this.balanced = init.upstream?.targets?.balanced;
  }

  get sideCallTimeoutMs(): number {
    return this.upstream?.headTimeoutMs(this.provider) ?? 0;
  }

  admitSideCall(): SideCallAdmission {
    const provider = this.provider;
    return provider === undefined || !this.upstream ? UNWATCHED : this.upstream.admitSideCall(provider);
  }

  get maxOutputTokens(): number | undefined {
    return this.outputCap;
  }

  /** A cap that is no token count (negative, not finite, absurd) is kept as none: see core/token-count.ts. */
  set maxOutputTokens(cap: number | undefined) {
    this.outputCap = isTokenCount(cap) ? cap : undefined;
  }

  get outputChoices(): number {
    return this.choices;
  }

  /** Below 1 or no number reads back as 1, a fraction as the next whole number: see core/token-count.ts. */
  set outputChoices(count: number) {
    this.choices = choiceCount(count);
  }

  get signal(): AbortSignal {
    return this.cancellation.signal;
  }

  json(): unknown {
    if (this.parsed === UNPARSED) this.parsed = exactJson(this.parsable());
    return this.parsed;
  }

  /**
   * The body, for JSON.parse to take whole: a large one is counted first, once, and refused
   * if its containers would hold the event loop for seconds (core/json-density.ts).
   */
  private parsable(): Buffer {
    const body = this.body;
    if (body.length < DENSITY_CHECK_MIN) return body;
    if (body !== this.countedBody) {
      this.countRefusal = tooComplexJson(body);
      this.countedBody = body;
    }
    if (this.countRefusal) throw this.countRefusal;
    return body;
  }

  jsonShape(): unknown {
    return this.shapeRead().shape;
  }

  jsonPick(reads: JsonReads): unknown {
    // A tree already built answers any reads; a small body is cheaper parsed whole once.
    if (this.shape !== undefined || this.body.length < PICK_MIN_BODY) return this.jsonShape();
    if (this.tape === undefined) this.tape = readTape(this.body) ?? null;
    // No tape: a body JSON.parse refuses (the shape says why) or one too large for the scanner.
    return this.tape ? pick(this.tape, reads) : this.jsonShape();
  }

  jsonCheck(check: JsonCheck): boolean {
    // A small body or one already parsed is judged as cheaply by its reader's own pick.
    if (this.shape !== undefined || this.body.length < PICK_MIN_BODY) return false;
    if (this.tape === undefined) this.tape = readTape(this.body) ?? null;
    return this.tape !== null && checkTape(this.tape, check);
  }

  private shapeRead(): Shape {
    // An ASCII body's shape is its exact tree: one parse serves both (keepParsed).
    return (this.shape ??= readShape(this.parsable(), this));
  }

  /** Core (json-body's readShape): the exact tree, when the shape's reading made it. */
  keepParsed(tree: unknown): unknown {
    if (this.parsed === UNPARSED) this.parsed = tree;
    return this.parsed;
  }

  rewritableBody(): RewritableBody {
    const { reading, shape, literals } = this.shapeRead();
    // Read `escaped`, the shape came from the exact tree, which then goes as the client wrote it.
    return reading === 'escaped' ? { value: this.json(), strings: TEXT_STRINGS } : { value: shape, strings: byteStringsWith(literals) };
  }

  /**
   * Forget the parsed body (core calls this once the provider has been called: a request
   * would otherwise keep its whole parsed JSON while it waits). A later `json()` parses
   * the bytes again.
   */
  releaseParsed(): void {
    this.parsed = UNPARSED;
    // A serialiser handed out with the shape may be kept (a provider's slot): it lets the body go too.
    this.shape?.literals?.release();
    this.shape = undefined;
    this.tape = undefined;
  }

  /**
   * Forget the raw body as well (core calls this once a provider's answer begins to flow:
   * nothing resends the request then, and a 100 KB prompt held for a minutes-long stream
   * is memory a pass-through never needed). `body` reads empty from then on;
   * {@link bytesIn} keeps its size.
   */
  releaseBody(): void {
    if (this.releasedBytes < 0) this.releasedBytes = this.body.length;
    this.body = EMPTY;
    this.countedBody = EMPTY;
    this.countRefusal = undefined;
    this.releaseParsed();
  }

  /** Bytes of the request body as forwarded, also after {@link releaseBody}. */
  get bytesIn(): number {
    if (this.upload !== undefined) return this.upload.bytesRead;
    return this.releasedBytes < 0 ? this.body.length : this.releasedBytes;
  }

  replaceBody(body: Buffer): void {
    this.body = body;
    this.releaseParsed();
  }

  get<T>(key: ContextKey<T>): T | undefined {
    const slots = this.slots;
    if (slots === undefined) return undefined;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] === key) return slots[i + 1] as T;
    return undefined;
  }

  set<T>(key: ContextKey<T>, value: T): void {
    const slots = this.slots;
    if (slots === undefined) {
      this.slots = [key, value];
      return;
    }
    for (let i = 0; i < slots.length; i += 2) {
      if (slots[i] === key) {
        slots[i + 1] = value;
        return;
      }
    }
    slots.push(key, value);
  }

  observeBody(observer: BodyObserver): void {
    (this.observers ??= []).push(observer);
  }
}
