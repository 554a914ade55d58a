/**
 * How long an upstream lets this cache keep its answer (RFC 9111). The cache serves many
 * callers, so it reads the answer as a shared cache does, whatever its `scope`.
 *
 * Kept out: `no-store`, unqualified `private` (meant for one user), unqualified `no-cache`
 * (storable, but never to be served without revalidating, which a generation cannot be);
 * `private="field"` and `no-cache="field"` name header fields only, and none but the
 * content type is stored.
 *
 * Freshness (§4.2.1): the lifetime is `s-maxage`, else `max-age`, else `Expires` − `Date`
 * (§5.3: `Expires` is ignored when either directive is present), less the `Age` the answer
 * already has (§4.2.3). A lifetime used up (`max-age=0`, an `Expires` at or before `Date`)
 * keeps the answer out; a longer one bounds the entry's TTL.
 *
 * An event stream's `no-cache` is the convention every SSE server follows (it keeps proxies
 * from holding a live stream back: the upstreams and the gateway's own translated streams
 * send it on every stream), not a word about the content, so there it is not read; nor,
 * alike, a stream's lifetime that is used up at once (`max-age=0`, a past `Expires`: the
 * same request to proxies in older words). A stream's positive lifetime still bounds the TTL.
 */
import { parts } from './directives.js';

type Header = string | string[] | undefined;

/** §1.2.2: a delta-seconds past this counts as this. */
const DELTA_MAX = 2 ** 31;

/** Digits as seconds, capped at {@link DELTA_MAX}; NaN when `text` is not all digits. */
function seconds(text: string): number {
  return /^\d+$/.test(text) ? Math.min(Number(text), DELTA_MAX) : NaN;
}

/** A directive's delta-seconds (the quoted form accepted, §5.2); NaN when it is none. */
function deltaSeconds(value: string | undefined): number {
  if (value === undefined) return NaN;
  return seconds(value.length > 1 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);
}

const first = (h: Header): string | undefined => (Array.isArray(h) ? h[0] : h);

/**
 * The upstream's `Age` in seconds (§5.1), 0 when it sent none or one that is not a
 * non-negative integer (which a cache ignores): the age its answer had on arrival.
 */
export function upstreamAgeSeconds(age: Header): number {
  const value = first(age)?.trim();
  const s = value === undefined ? NaN : seconds(value);
  return Number.isNaN(s) ? 0 : s;
}

/** `Expires` − `Date`, in seconds; a `Date` missing or unreadable is now (RFC 9110 §6.6.1). */
function expiresLifetime(expires: string, date: Header, now: number): number {
  const at = Date.parse(expires);
  // §5.3: an invalid date, "0" above all, is in the past.
  if (Number.isNaN(at)) return 0;
  const sent = date === undefined ? NaN : Date.parse(first(date) ?? '');
  return (at - (Number.isNaN(sent) ? now : sent)) / 1000;
}

/**
 * Milliseconds the upstream lets the cache keep an answer with these headers, counted from
 * when its head arrived: 0 for not at all, Infinity when it sets no bound.
 * Call it only when the answer carries `Cache-Control` or `Expires`: without them, Infinity.
 * `ageSeconds`: the answer's {@link upstreamAgeSeconds}, when the caller has read it already.
 */
export function upstreamLifetimeMs(headers: Readonly<Record<string, Header>>, stream: boolean, ageSeconds = upstreamAgeSeconds(headers.age)): number {
  let sMaxage: number | undefined;
  let maxAge: number | undefined;
  for (const [name, value] of parts(headers['cache-control'])) {
    if (name === 'no-store' || (value === undefined && (name === 'private' || (name === 'no-cache' && !stream)))) return 0;
    // §4.2.1: of a directive given twice the first occurrence is used, and an invalid value
    // (NaN here) makes the answer stale, so a later one cannot repair it.
    if (name === 's-maxage') sMaxage ??= deltaSeconds(value);
    else if (name === 'max-age') maxAge ??= deltaSeconds(value);
  }
  let lifetime: number;
  if (sMaxage !== undefined) lifetime = sMaxage;
  else if (maxAge !== undefined) lifetime = maxAge;
  else {
    const expires = first(headers.expires);
    if (expires === undefined) return Infinity;
    lifetime = expiresLifetime(expires, headers.date, Date.now());
  }
  // §4.2.3: age_value is 0 when the upstream sent no (readable) Age. The apparent age from
  // the two clocks is left out: a skewed upstream clock would shorten every lifetime.
  const remaining = lifetime - ageSeconds;
  // `!(> 0)`: NaN, an invalid directive, is stale too.
  if (!(remaining > 0)) return stream ? Infinity : 0;
  return remaining * 1000;
}
