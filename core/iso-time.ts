/**
 * `new Date(ms).toISOString()` for timestamps written per request (audit lines, ledger
 * rows). V8 formats a date through a printf per field, ~7,700 instructions a call under
 * callgrind (`bench/instructions.ts`): the largest JavaScript-side cost of an audited
 * request. Lines finishing within one second share everything up to the milliseconds, so
 * that part is made once per second and the milliseconds appended.
 */

/** The largest time a Date holds, either side of the epoch (ECMA-262 TimeClip). */
const MAX_TIME = 8.64e15;

let cachedSecond = NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of {@link cachedSecond} (or its extended-year form). */
let cachedPrefix = '';

/**
 * The ISO 8601 text of epoch milliseconds `ms`, exactly as `Date#toISOString` writes it
 * (a fraction of a millisecond is dropped as `Date` drops it; an invalid time throws its
 * RangeError).
 * @example
 * isoTime(Date.UTC(2026, 11, 4, 9, 30, 0, 7)) // '2026-12-04T09:30:00.007Z'
 */
export function isoTime(ms: number): string {
  const at = Math.trunc(ms);
  // NaN and times past Date's range: its own RangeError.
  if (!(Math.abs(at) <= MAX_TIME)) return new Date(at).toISOString();
  const second = Math.floor(at / 1000);
  if (second !== cachedSecond) {
    const text = new Date(second * 1000).toISOString();
    cachedPrefix = text.slice(0, -4); // without `000Z`
    cachedSecond = second;
  }
  const milli = at - second * 1000;
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
