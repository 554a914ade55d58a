/**
 * A large request body's objects and arrays counted, and how deep they nest, before
 * JSON.parse is given it.
 *
 * JSON.parse pays for every container it builds far more than for a byte of a string: in
 * one idle process 16 MiB of `[],[],…` took 1.2 s and 16 MiB of `[[[…]]]` 3.1 s, against 25
 * ms for 16 MiB of prompt text; through a gateway under load, 8 and 20 s of a stalled
 * event loop, `/health` included (bench/dense-body.ts). No request has that shape: a
 * conversation of the shortest messages (`{"role":"user","content":"hi"},`) holds one
 * container per 31 bytes, tool schemas one per ~17, and nothing nests past a few dozen
 * levels. So a body holding more containers than one per {@link BYTES_PER_CONTAINER} bytes
 * (with room for {@link MIN_ALLOWANCE} in any body, and never more than
 * {@link MAX_CONTAINERS}), or nesting deeper than {@link MAX_DEPTH}, is refused before the
 * parse: what is admitted costs JSON.parse per byte no more than such a conversation.
 *
 * The count is one pass outside strings (~1 ns a byte; a long string is searched for its
 * end by memchr). Bodies below {@link DENSITY_CHECK_MIN} are not counted: the worst of
 * them costs JSON.parse a few tens of ms, and the 1 KB hot path pays nothing.
 */
import { GatewayError } from './errors.js';

/** Bodies from this size on are counted before they are parsed whole. */
export const DENSITY_CHECK_MIN = 256 * 1024;
/** Containers admitted per this many bytes of body. */
export const BYTES_PER_CONTAINER = 16;
/** Containers admitted in any counted body, however small. */
export const MIN_ALLOWANCE = 65_536;
/** Containers admitted in any body, however large (a 100,000-request batch holds about half). */
export const MAX_CONTAINERS = 1_000_000;
/** Deepest nesting admitted. */
export const MAX_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
/** Bytes of a string looked at one by one before its end is searched for (a call into C++ costs more than a short string). */
const SHORT_STRING = 32;

/**
 * Why JSON.parse is not given `bytes`, or `undefined` if it may be: a 400
 * `GW_ERR_REQUEST_JSON_TOO_COMPLEX` for a body past the limits (see the module comment).
 */
export function tooComplexJson(bytes: Buffer): GatewayError | undefined {
  if (bytes.length < DENSITY_CHECK_MIN) return undefined;
  return new ContainerBudget(bytes.length).count(bytes);
}

/**
 * The containers one request may have parsed, shared by every JSON text parsed on its
 * behalf: a body's strings (tool calls' `arguments`) are counted in it one by one, so many
 * strings each too small to be counted alone cannot add up to what one dense body is refused for.
 */
export class ContainerBudget {
  /** Containers admitted in all, from the size of the body they come from. */
  readonly allowed: number;
  private containers = 0;

  constructor(bodyLength: number) {
    this.allowed = Math.min(MAX_CONTAINERS, Math.max(MIN_ALLOWANCE, Math.floor(bodyLength / BYTES_PER_CONTAINER)));
  }

  /** Count the containers of the JSON text `bytes` into the budget: the refusal once it is spent, or they nest too deep. */
  count(bytes: Buffer): GatewayError | undefined {
    const len = bytes.length;
    const allowed = this.allowed;
    let containers = this.containers;
    let depth = 0;
    for (let i = 0; i < len; i++) {
      const b = bytes[i];
      if (b === QUOTE) i = closingQuote(bytes, i + 1);
      else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
        if (++containers > allowed) return tooMany(allowed);
        if (++depth > MAX_DEPTH) return tooDeep();
      } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) depth--;
    }
    this.containers = containers;
    return undefined;
  }
}

/** Where the string whose text starts at `from` ends (its closing quote), or the end of the bytes. */
function closingQuote(bytes: Buffer, from: number): number {
  const len = bytes.length;
  const near = Math.min(len, from + SHORT_STRING);
  let i = from;
  for (; i < near; i++) {
    const b = bytes[i];
    if (b === QUOTE) return i;
    if (b === BACKSLASH) i++;
  }
  // `i` is not inside an escape: a quote after it ends the string unless an odd run of backslashes precedes it.
  for (;;) {
    const quote = bytes.indexOf(QUOTE, i);
    if (quote < 0) return len;
    let run = quote;
    while (run > i && bytes[run - 1] === BACKSLASH) run--;
    if (((quote - run) & 1) === 0) return quote;
    i = quote + 1;
  }
}

function tooMany(allowed: number): GatewayError {
  return new GatewayError(
    'GW_ERR_REQUEST_JSON_TOO_COMPLEX',
    `Request body holds more than ${allowed} JSON objects and arrays; the gateway takes at most one per ${BYTES_PER_CONTAINER} bytes of body (${MAX_CONTAINERS} in all)`,
  );
}

function tooDeep(): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_JSON_TOO_COMPLEX', `Request body nests JSON objects and arrays more than ${MAX_DEPTH} deep`);
}
