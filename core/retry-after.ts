/**
 * `retry-after` as the gateway reads it wherever it reads one (a translated error, a retry
 * on the pass-through path, a failed lookup): one valid value in whole seconds, whatever the
 * upstream (or a proxy in front of it) sent. The `openai` SDKs honour it for their own
 * retries (under a minute), so a value they cannot read, or one of two, is a retry wasted.
 * https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */

type Headers = Record<string, string | string[] | undefined>;

const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
/** IMF-fixdate, the HTTP-date form senders must generate (RFC 9110 §5.6.7). */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The upstream's clock when it answered: its `date` header, else ours. Times it sends (an
 * HTTP-date `retry-after`, a reset time) are read against it, so a skewed clock on either
 * side does not stretch or shorten the wait.
 */
export function answeredAt(headers: Headers): number {
  const date = first(headers.date);
  const at = date !== undefined && IMF_FIXDATE.test(date.trim()) ? Date.parse(date) : NaN;
  return Number.isNaN(at) ? Date.now() : at;
}

/** Whole seconds from `now` until `at` (ms), rounded up; never negative. */
function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** The seconds one `retry-after` value asks for (delay-seconds or an HTTP-date), undefined when it is neither. */
function delayOf(value: string, now: number): number | undefined {
  const v = value.trim();
  if (DELAY_SECONDS.test(v)) return Math.ceil(Number(v));
  return IMF_FIXDATE.test(v) ? secondsUntil(Date.parse(v), now) : undefined;
}

/**
 * The longest valid delay among the `retry-after` fields an upstream sent (Node gives a
 * repeated header as an array; a proxy may have folded two into one line, `5, 10`), in whole
 * seconds as a header value; undefined when none is valid.
 * @example
 * retryAfterOf(['7', 'soon', 'Wed, 21 Oct 2026 07:28:30 GMT'], Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')) // → '30'
 */
export function retryAfterOf(field: string | string[] | undefined, now: number): string | undefined {
  if (field === undefined) return undefined;
  let longest: number | undefined;
  for (const value of Array.isArray(field) ? field : [field]) {
    // An HTTP-date has a comma of its own: split only what is not one whole value.
    const whole = delayOf(value, now);
    const delays = whole !== undefined ? [whole] : value.split(',').map((part) => (DELAY_SECONDS.test(part.trim()) ? Math.ceil(Number(part)) : undefined));
    for (const d of delays) if (d !== undefined && (longest === undefined || d > longest)) longest = d;
  }
  return longest === undefined ? undefined : String(longest);
}

/** Seconds until an RFC 3339 time (rounded up, at least 1: the limit has not reset yet), undefined when it is not one. */
export function secondsUntilTime(value: string | string[] | undefined, now: number): number | undefined {
  const v = first(value)?.trim();
  if (v === undefined || !RFC3339.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(1, secondsUntil(at, now));
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
