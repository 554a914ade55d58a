/**
 * The cache key: a SHA-256 of a canonical form of what determines the answer: scope,
 * provider, request path and query, the varying headers (`vary_headers`, the header
 * families in {@link VARY_PREFIXES}, the route's dialect's `cacheKeyHeaders`, the account
 * headers in {@link ACCOUNT_HEADERS} and the provider's opted-in forwarded ones) and the body with its keys sorted
 * and the fields that do not change the generated content removed, so `{"a":1,"b":2}` and
 * `{"b":2,"a":1}` share an entry.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { withoutKey, writeJson } from '../../core/index.js';

/**
 * Top-level body fields left out of every key (`stream` is `KeyParts.stream` where it
 * counts); the dialect names others (`KeyParts.unkeyedFields`).
 */
const IGNORED = new Set(['stream']);
/**
 * Where one entry serves both modes, `stream_options` goes too; elsewhere it changes the
 * bytes stored (OpenAI's `include_usage` adds a usage-only chunk), so it stays.
 */
const IGNORED_SHARED = new Set([...IGNORED, 'stream_options']);

/**
 * Header families a pass-through forwards upstream that change the answer, part of every key
 * whatever `vary_headers` says (a list that replaces the default would otherwise drop them):
 * Bedrock applies a guardrail (`x-amzn-bedrock-guardrailidentifier`, `-guardrailversion`),
 * adds its trace (`-trace`), picks a latency profile (`-performanceconfig-latency`) or an
 * answer type (`-accept`) from these.
 */
const VARY_PREFIXES = ['x-amzn-bedrock-'] as const;

/**
 * Client headers that pick the account, organisation or project an upstream answers (and
 * bills) for, part of every key when a request carries them, whatever `vary_headers` says:
 * OpenAI's `OpenAI-Organization` and `OpenAI-Project`, Google's `x-goog-user-project` (the
 * quota project, ahead of the key's own). Pass-throughs and plugins may forward them (the
 * built-in openai provider drops the first two); one the upstream never sees only splits
 * an entry for the clients that send it.
 */
export const ACCOUNT_HEADERS: readonly string[] = ['openai-organization', 'openai-project', 'x-goog-user-project'];

/**
 * The headers always in the key for a provider: {@link ACCOUNT_HEADERS} and the client
 * headers its config forwards (`Provider.forwardedHeaders`), sorted, once each. Made once
 * per provider and config generation.
 */
export function keyedHeaders(forwarded: readonly string[] = []): readonly string[] {
  const names = new Set([...ACCOUNT_HEADERS, ...forwarded.map((h) => h.toLowerCase())]);
  // The prefix families are in the key already.
  return [...names].filter((h) => !VARY_PREFIXES.some((prefix) => h.startsWith(prefix))).sort();
}

/**
 * A provider entry's settings that do not change what its upstream answers: how requests
 * are routed to it and retried. Everything else (type, base URL, region, credentials,
 * API version, a plugin's own settings) may.
 */
const ROUTING_ONLY = new Set(['enabled', 'prefix', 'model_patterns', 'resilience']);

/**
 * A digest of what picks a provider instance's upstream and answer (its config entry but
 * {@link ROUTING_ONLY}), made once per instance and config generation. Entries outlive a
 * reload: with the digest in the key, a reload that points an instance elsewhere (another
 * base URL, account or region) misses the old upstream's answers, while one that changes
 * its timeouts keeps them. Credentials take part, only ever inside the key's hash.
 */
export function providerDigest(entry: Readonly<Record<string, unknown>> | undefined): string {
  if (!entry) return '';
  const answering: Record<string, unknown> = {};
  for (const k of Object.keys(entry)) if (!ROUTING_ONLY.has(k)) answering[k] = entry[k];
  return createHash('sha256').update(canonicalJson(answering)).digest('base64');
}

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return writeJson(value, true);
}

/**
 * The body without the fields that do not change the answer; `shared` when streamed and
 * JSON answers share an entry; `unkeyed`: the dialect's own such fields.
 */
export function keyBody(body: Record<string, unknown>, shared: boolean, unkeyed: readonly string[] = []): Record<string, unknown> {
  const ignored = shared ? IGNORED_SHARED : IGNORED;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(body)) if (!ignored.has(k) && !unkeyed.includes(k)) out[k] = body[k];
  return out;
}

export interface KeyParts {
  /** `user:<user>\n<workspace>` or `shared`. */
  scope: string;
  /** The provider instance that serves the request (`ctx.provider`). */
  provider: string;
  /** {@link providerDigest} of its config entry. */
  providerDigest?: string;
  path: string;
  /** The raw query string (without `?`); its `key` parameter (a credential) is dropped here. */
  query?: string;
  /** Set only when the dialect cannot convert between streamed and JSON entries. */
  stream?: boolean;
  /** The model the unified endpoint resolved the request's to (an alias's own); absent elsewhere. */
  target?: string;
  headers: IncomingHttpHeaders;
  varyHeaders: readonly string[];
  /** Headers in the key whatever `varyHeaders` says: {@link keyedHeaders} of the provider. */
  keyedHeaders: readonly string[];
  /**
   * The route's dialect's `cacheKeyHeaders` (lower-cased): in the key whatever `varyHeaders`
   * says, each only when the request carries it, so a key without them is what it always was.
   */
  dialectHeaders?: readonly string[];
  /** The route's dialect's `cacheUnkeyedFields`: body fields neither the answer nor its echo depends on. */
  unkeyedFields?: readonly string[];
  body: Record<string, unknown>;
}

function headerText(v: string | string[] | undefined): string | null {
  return Array.isArray(v) ? v.join(',') : v ?? null;
}

/**
 * `[name, value]` of every header the request carries in {@link VARY_PREFIXES} or in `named`,
 * by name (header names arrive lower-cased).
 */
function present(headers: IncomingHttpHeaders, named: readonly string[]): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  for (const name of Object.keys(headers)) {
    if (VARY_PREFIXES.some((prefix) => name.startsWith(prefix))) out.push([name, headerText(headers[name])]);
  }
  for (const name of named) {
    const value = headers[name];
    if (value !== undefined && !VARY_PREFIXES.some((prefix) => name.startsWith(prefix))) out.push([name, headerText(value)]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** The parts that name the target serving the request: one key per target a request may be served by. */
export type TargetKeyParts = Pick<KeyParts, 'provider' | 'providerDigest' | 'target' | 'keyedHeaders'>;

/** The hash of the parts every target of a request shares, to be finished by {@link targetKey} per target. */
export function commonKeyHash(p: Omit<KeyParts, keyof TargetKeyParts>): Hash {
  const vary = p.varyHeaders.map((h) => headerText(p.headers[h]));
  // An array, not a joined string: no field can smuggle a separator into another.
  return createHash('sha256').update(canonicalJson([p.scope, p.path, withoutKey(p.query ?? ''), p.stream ?? null, vary, present(p.headers, p.dialectHeaders ?? []), keyBody(p.body, p.stream === undefined, p.unkeyedFields)]));
}

/** The key for target `t`: {@link commonKeyHash} (left untouched) followed by the target's parts; two JSON arrays in a row cannot be read two ways. */
export function targetKey(common: Hash, headers: IncomingHttpHeaders, t: TargetKeyParts): string {
  const keyed = t.keyedHeaders.map((h) => headerText(headers[h]));
  return common.copy().update(canonicalJson([t.provider, t.providerDigest ?? '', t.target ?? null, keyed])).digest('hex');
}

export function cacheKey(p: KeyParts): string {
  return targetKey(commonKeyHash(p), p.headers, p);
}
