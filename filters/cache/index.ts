/**
 * `cache`: answers a repeated generation request from memory. Only requests marked
 * cacheable (`temperature: 0`, or `x-gateway-cache: on`) that name no upstream state which
 * changes between calls (a Responses `conversation`: stateful.ts) take part;
 * `Cache-Control: no-cache` (or `max-age=0`, `Pragma: no-cache`) skips the lookup but still
 * stores, `no-store` does neither; an answer marked `no-store`, `private` or (not an event stream) `no-cache`, or whose
 * freshness is used up (`max-age=0`, a past `Expires`), is not kept (freshness.ts). Complete 200
 * answers are captured beside the byte flow and kept per user (or shared when configured)
 * for `ttl_seconds`, or less when the upstream's `s-maxage` / `max-age` / `Expires` says so. A hit is replayed in the mode the client asked for (JSON or SSE),
 * reports zero token usage (nothing was generated, so limits are not charged) and is
 * marked `x-cache: HIT` and `cache_hit` in the audit line.
 */
import {
  type BodyObserver,
  createKey,
  type Dialect,
  type Filter,
  type FilterPlugin,
  type FilterResponse,
  type Outcome,
  type PluginEnv,
  type RequestContext,
  type ResponseConverter,
  type ResponseHead,
} from '../../core/index.js';
import { CACHE_HEADER, configSchema, type CacheConfig } from './config.js';
import { isWholeAnswer } from './complete.js';
import { requestDirectives } from './directives.js';
import { upstreamAgeSeconds, upstreamLifetimeMs } from './freshness.js';
import { commonKeyHash, keyedHeaders, providerDigest, targetKey } from './key.js';
import { CACHE_HIT } from './slot.js';
import { dependsOnMutableState } from './stateful.js';
import { asksTemperatureZero } from './temperature.js';
import { sharedCache, type CacheEntry } from './store.js';

export { CACHE_HIT } from './slot.js';
export type { CacheConfig } from './config.js';

/** Collects a response body up to a bound; past it the answer is simply not stored. */
class Capture implements BodyObserver {
  private chunks: Uint8Array[] = [];
  size = 0;
  complete = false;
  constructor(private limit: number) {}
  /** Keep nothing more: the answer will not be stored. */
  stop(): void {
    this.limit = -1;
    this.chunks = [];
  }
  onData(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size <= this.limit) this.chunks.push(chunk);
    else this.chunks = [];
  }
  onEnd(complete: boolean): void {
    this.complete = complete && this.size <= this.limit;
  }
  body(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

interface Pending {
  /**
   * Per target the first attempt may go to (`provider\0model`), the key its answer is
   * stored under: the first choice's, and with weighted balancing each equal-priority peer's.
   */
  keys: Map<string, string>;
  /** The provider instance the first choice names. */
  provider: string;
  /** Absent under `no-store`. */
  capture?: Capture;
  contentType?: string;
  /** Epoch milliseconds the upstream's freshness runs out, when it ends before the TTL would. */
  freshUntil?: number;
  /** The upstream's `Age` on its answer, in seconds. */
  initialAge?: number;
  /** The body the key was made from, until the response head shows whether it was forwarded as it was. */
  keyed?: Buffer;
  /** A later filter (the validator's clamp) replaced the body: the answer is not to the keyed one. */
  rewritten?: boolean;
}
const PENDING = createKey<Pending>('cache.pending');

function headerValue(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v ?? '').trim().toLowerCase();
}

function modeOf(contentType: string): 'json' | 'sse' | undefined {
  if (contentType.startsWith('text/event-stream')) return 'sse';
  if (contentType.includes('json')) return 'json';
  return undefined;
}

/** The entry as the client asked for it, converting when the modes differ; undefined if it cannot. */
function replay(entry: CacheEntry, stream: boolean, converter: ResponseConverter | undefined): FilterResponse | undefined {
  const want = stream ? 'sse' : 'json';
  let body: Buffer | undefined = entry.body;
  let contentType = entry.contentType;
  if (entry.mode !== want) {
    body = want === 'sse' ? converter?.toSse(entry.body) : converter?.toJson(entry.body);
    contentType = want === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/json';
  }
  if (!body) return undefined;
  const headers: Record<string, string> = { 'content-type': contentType, 'x-cache': 'HIT', age: String(entry.initialAge + Math.floor((Date.now() - entry.storedAt) / 1000)) };
  if (want === 'sse') headers['cache-control'] = 'no-cache';
  else headers['content-length'] = String(body.length);
  return { status: 200, headers, body, usage: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 } };
}

const choiceId = (provider: string, model: string | undefined): string => `${provider}\u0000${model ?? ''}`;

export function createCacheFilter(config: CacheConfig, env: PluginEnv): Filter {
  const { lru, release } = sharedCache(env, { maxEntries: config.max_entries, maxBytes: config.max_bytes, maxEntryBytes: config.max_entry_bytes });
  const ttl = Math.max(1, Math.round(config.ttl_seconds * 1000));
  const vary = config.vary_headers.map((h) => h.toLowerCase());
  // Per provider instance of this config generation; a name not among them (none should be) keys on the account headers alone.
  const keyedByProvider = new Map([...env.providers].map(([name, p]) => [name, keyedHeaders(p.forwardedHeaders)]));
  const accountOnly = keyedHeaders();
  // Per provider instance: what its config says about the upstream that answers.
  const digests = new Map([...env.providers.keys()].map((name) => [name, providerDigest(env.config.providers?.[name] as Record<string, unknown> | undefined)]));
  // A dialect's own key headers, lower-cased once per dialect (a plugin may write `OpenAI-Beta`).
  const dialectHeaders = new WeakMap<Dialect, readonly string[]>();
  const dialectHeadersOf = (dialect: Dialect): readonly string[] => {
    let names = dialectHeaders.get(dialect);
    if (!names) dialectHeaders.set(dialect, (names = [...new Set((dialect.cacheKeyHeaders ?? []).map((h) => h.toLowerCase()))]));
    return names;
  };
  const hits = env.metrics.fastCounter({ name: 'gateway_cache_hits_total', help: 'Requests answered from the response cache', labelNames: ['provider'] });
  const misses = env.metrics.fastCounter({ name: 'gateway_cache_misses_total', help: 'Cacheable requests the response cache had no entry for (lookups skipped by no-cache or no-store included)', labelNames: ['provider'] });
  const writes = env.metrics.fastCounter({ name: 'gateway_cache_writes_total', help: 'Responses stored in the response cache', labelNames: ['provider'] });

  function cacheable(ctx: RequestContext, body: Record<string, unknown>): boolean {
    const optIn = headerValue(ctx.headers[CACHE_HEADER]);
    if (optIn === 'off' || dependsOnMutableState(body)) return false;
    if (config.opt_in_header && optIn === 'on') return true;
    return config.temperature_zero && asksTemperatureZero(ctx.dialect, body);
  }

  /** The scope part of the key; undefined when a per-user entry has no user to belong to. */
  function scopeOf(ctx: RequestContext): string | undefined {
    if (config.scope === 'shared') return 'shared';
    const id = ctx.identity;
    return id ? `user:${id.user}\n${id.workspace}` : undefined;
  }

  return {
    onRequest(ctx) {
      if (ctx.kind !== 'generation' || ctx.method !== 'POST') return;
      let parsed: unknown;
      try {
        parsed = ctx.json();
      } catch {
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      const body = parsed as Record<string, unknown>;
      if (!cacheable(ctx, body)) return;
      const scope = scopeOf(ctx);
      if (scope === undefined) return;
      // The provider that serves it: on the unified endpoint the one the model or X-Provider chose, not the route's.
      const provider = ctx.provider;
      if (provider === undefined) return; // nothing will serve it: refused after the chain
      const converter = ctx.dialect.cacheConverter;
      // The model the unified endpoint resolved (an alias's own): a reload that re-points an alias misses.
      const model = ctx.route.mode === 'unified' ? ctx.model : undefined;
      const common = commonKeyHash({
        scope,
        path: ctx.subpath,
        query: ctx.query,
        stream: converter ? undefined : ctx.stream,
        headers: ctx.headers,
        varyHeaders: vary,
        dialectHeaders: dialectHeadersOf(ctx.dialect),
        unkeyedFields: ctx.dialect.cacheUnkeyedFields,
        body,
      });
      // Each target balancing may draw keys its own answers: its config (digest) and model are in its key, so an entry is only ever served as the answer of the target that gave it.
      const keys = new Map<string, string>();
      for (const choice of ctx.balanced ?? [{ provider }]) {
        const chosen = model === undefined ? undefined : choice.model ?? model;
        keys.set(choiceId(choice.provider, chosen), targetKey(common, ctx.headers, { provider: choice.provider, providerDigest: digests.get(choice.provider), target: chosen, keyedHeaders: keyedByProvider.get(choice.provider) ?? accountOnly }));
      }
      const d = requestDirectives(ctx.headers['cache-control'], ctx.headers.pragma);
      if (!d.noLookup) {
        for (const [id, key] of keys) {
          const entry = lru.get(key);
          const response = entry && replay(entry, ctx.stream, converter);
          if (!response) continue;
          const served = id.slice(0, id.indexOf('\u0000'));
          // A peer's entry: audited as served by that target (and the model it was sent), whose answer it is.
          ctx.provider = served;
          if (model !== undefined) ctx.model = id.slice(id.indexOf('\u0000') + 1);
          hits.inc({ provider: served });
          ctx.set(CACHE_HIT, true);
          return { action: 'reply', response };
        }
      }
      misses.inc({ provider });
      const pending: Pending = { keys, provider };
      if (!d.noStore) {
        pending.keyed = ctx.body;
        pending.capture = new Capture(config.max_entry_bytes);
        ctx.observeBody(pending.capture);
      }
      ctx.set(PENDING, pending);
    },

    onResponse(ctx: RequestContext, head: ResponseHead) {
      const pending = ctx.get(PENDING);
      if (!pending) return;
      head.headers['x-cache'] = 'MISS';
      // Read before core lets the request body go; a replaced one is another object.
      pending.rewritten = pending.keyed !== undefined && ctx.body !== pending.keyed;
      pending.keyed = undefined;
      const ct = head.headers['content-type'];
      pending.contentType = String(Array.isArray(ct) ? ct[0] : ct ?? '');
      if (head.headers.age !== undefined) pending.initialAge = upstreamAgeSeconds(head.headers.age);
      // Most answers carry neither header: nothing to parse on their way.
      if (pending.capture && (head.headers['cache-control'] !== undefined || head.headers.expires !== undefined)) {
        // The upstream says its answer is not for a shared cache, not to be served from one, or for how long.
        const lifetime = upstreamLifetimeMs(head.headers, modeOf(pending.contentType) === 'sse', pending.initialAge ?? 0);
        if (lifetime <= 0) {
          pending.capture.stop();
          pending.capture = undefined;
        } else if (lifetime < ttl) pending.freshUntil = Date.now() + lifetime;
      }
    },

    onComplete(ctx: RequestContext, outcome: Outcome) {
      const pending = ctx.get(PENDING);
      const capture = pending?.capture;
      if (!pending || !capture || !capture.complete || outcome.status !== 200 || outcome.error || pending.rewritten !== false) return;
      // A filter after the cache answered (a plugin's notice or fixed reply): not the upstream's answer.
      if (outcome.repliedBy !== undefined) return;
      // Stored under the key of the target that answered; a fallback (a lower priority, or an
      // alias's model none of those keys names) has none: its answer is not stored.
      const key = pending.keys.get(choiceId(outcome.target ?? pending.provider, ctx.route.mode === 'unified' ? ctx.model : undefined));
      if (key === undefined) return;
      const contentType = pending.contentType ?? '';
      const mode = modeOf(contentType);
      if (!mode) return;
      const body = capture.body();
      // A clean end and a 200 do not make a whole answer: an upstream may stop early.
      if (!isWholeAnswer(ctx.dialect, mode, body)) return;
      // A classifier's refusal or block: a false positive would be replayed for the TTL.
      if (ctx.dialect.isRefusal?.(body, mode) === true) return;
      const storedAt = Date.now();
      // Counted from the head: a long stream has used up part of its freshness by its end.
      const lifetime = pending.freshUntil === undefined ? ttl : Math.min(ttl, Math.floor(pending.freshUntil - storedAt));
      if (lifetime <= 0) return;
      lru.set(key, { body, mode, contentType, storedAt, initialAge: pending.initialAge ?? 0, expiresAt: storedAt + lifetime }, { ttl: lifetime });
      if (lru.has(key)) writes.inc({ provider: outcome.target ?? pending.provider }); // set: a pending entry has one
    },

    // The pipeline retired, or its config failed to build: a cache no pipeline holds is dropped.
    close() {
      release();
    },
  };
}

const cache: FilterPlugin<CacheConfig> = {
  name: 'cache',
  apiVersion: 1,
  configSchema,
  create: createCacheFilter,
};
export default cache;
