/**
 * A JSON document too large to keep whole, kept as its two ends: the top-level members (or
 * array elements) it opens with, within its first {@link HEAD_LIMIT} bytes, and the whole
 * members it closes with, up to {@link TAIL_LIMIT} bytes; those between are dropped. What
 * is kept is a JSON document itself when the bytes were one, so the usage readers read it
 * as they read a small answer: a chat completion whose `choices` took 30 MB is kept as
 * `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","usage":{…},"service_tier":"default"}`.
 * Every provider puts its counts among an answer's last members (OpenAI's and Anthropic's
 * `usage`, the Responses API's `usage` before `user` and `metadata`, Gemini's
 * `usageMetadata` before `modelVersion` and `responseId`, Converse's `usage` before
 * `metrics`), and Gemini's JSON-array stream in its last element.
 *
 * It follows only what that needs — the nesting depth and where strings (and their escapes)
 * begin and end — so it vouches for nothing it drops; whoever reads the kept document
 * checks that, as JSON.parse would have checked the whole. A member is cut at a comma of
 * the top level, which no string and no nested value holds.
 */

/** Bytes from the start in which the opening members are looked for (ids, model). */
export const HEAD_LIMIT = 64 * 1024;
/** The most kept of the closing members: room for the usage and what follows it. */
export const TAIL_LIMIT = 256 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** How many backslashes come right before `at`, back to `from`. */
function backslashesBefore(bytes: Uint8Array, at: number, from: number): number {
  let k = 0;
  while (at - 1 - k >= from && bytes[at - 1 - k] === BACKSLASH) k++;
  return k;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class JsonEnds {
  /** Bytes seen. */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the top-level `{` or `[` is, once seen. */
  private rootAt = -1;
  private closed = false;
  /** Where the top-level closing bracket is, once seen. */
  private closeAt = -1;
  /** Not an object or array, or bytes after its end: no document to give. */
  private broken = false;

  /** The first bytes, up to the head limit. */
  private readonly head: Uint8Array[] = [];
  /** The last top-level comma within the head: the opening members end there. */
  private headCut = -1;

  /** The closing members kept: bytes from {@link tailFrom} on, just after a top-level boundary. */
  private tail: Uint8Array[] = [];
  private tailFrom = 0;
  private tailBytes = 0;
  /** Top-level commas since {@link tailFrom}: where the tail may be shortened, a member at a time. */
  private marks: number[] = [];
  /** The member under way is longer than the tail may be: nothing kept until the next boundary. */
  private skipping = false;
  /** The tail starts with a member, not the closing bracket (so it joins the head with a comma). */
  private tailHasMembers = true;

  constructor(
    private readonly headLimit = HEAD_LIMIT,
    private readonly tailLimit = TAIL_LIMIT,
  ) {}

  /** Bytes held now: never much more than the two limits. */
  get held(): number {
    let n = this.tailBytes;
    for (const c of this.head) n += c.length;
    return n;
  }

  push(chunk: Uint8Array): void {
    const base = this.pos;
    this.pos = base + chunk.length;
    if (this.broken) return;
    // Copied: a few small pieces, and no larger buffer they belong to is held with them.
    if (base < this.headLimit) this.head.push(Buffer.from(chunk.subarray(0, this.headLimit - base)));
    this.scan(chunk, base);
    if (this.broken) return;
    if (!this.skipping) {
      const from = Math.max(0, this.tailFrom - base);
      if (from < chunk.length) {
        this.tail.push(from === 0 ? chunk : chunk.subarray(from));
        this.tailBytes += chunk.length - from;
      }
    }
    if (this.tailBytes > this.tailLimit) this.shortenTail();
  }

  /**
   * The kept ends as one document: the opening members, a comma, the closing members and
   * the bracket. Undefined unless the bytes were one object or array that ended.
   */
  document(): Buffer | undefined {
    if (this.broken || !this.closed) return undefined;
    const head = Buffer.concat(this.head);
    const opening = head.subarray(0, this.headCut >= 0 ? this.headCut : this.rootAt + 1);
    const joint = this.headCut >= 0 && this.tailHasMembers ? [COMMA_BYTE] : [];
    return Buffer.concat([opening, ...joint, ...this.tail]);
  }

  /** Follows strings and nesting through `chunk`, telling {@link boundary} and {@link close} what it finds. */
  private scan(chunk: Uint8Array, base: number): void {
    // Locals, not fields, in the loop that runs once a byte.
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      if (inString) {
        if (escaped) {
          escaped = false; // the byte a backslash at the end of the last chunk escapes
          continue;
        }
        // Keys and short values end within a few bytes: looked at one by one.
        const near = Math.min(n, i + 16);
        let j = i;
        while (j < near && chunk[j] !== QUOTE && chunk[j] !== BACKSLASH) j++;
        if (j < near && chunk[j] === QUOTE) {
          inString = false;
          i = j;
          continue;
        }
        // Most of an answer's bytes are text: jump from quote to quote. A quote is escaped
        // when an odd run of backslashes comes right before it.
        let quote = chunk.indexOf(QUOTE, i);
        while (quote >= 0 && backslashesBefore(chunk, quote, i) % 2 === 1) quote = chunk.indexOf(QUOTE, quote + 1);
        if (quote < 0) {
          escaped = backslashesBefore(chunk, n, i) % 2 === 1;
          break;
        }
        inString = false;
        i = quote;
        continue;
      }
      const c = chunk[i];
      if (c === QUOTE) {
        inString = true;
      } else if (c === COMMA) {
        if (depth === 1) this.boundary(base + i, true);
      } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (depth === 0) {
          if (this.rootAt >= 0 || base + i >= this.headLimit) return this.fail();
          this.rootAt = base + i;
          this.boundary(base + i, false);
        }
        depth++;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (depth === 0) return this.fail();
        if (--depth === 0) this.close(base + i);
      } else if (depth === 0 && !isJsonSpace(c)) {
        return this.fail(); // a scalar document, or bytes after the end
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }

  /** A member ends at `at` (a top-level comma) or the first begins after it (the opening bracket). */
  private boundary(at: number, comma: boolean): void {
    if (at < this.headLimit) {
      // Still within the head, which keeps the members before it.
      if (comma) this.headCut = at;
      this.restartTail(at + 1, true);
    } else if (this.skipping) {
      this.restartTail(at + 1, true);
    } else {
      this.marks.push(at);
    }
  }

  private close(at: number): void {
    this.closed = true;
    this.closeAt = at;
    // The last member was too long to keep: the tail is the bracket alone.
    if (this.skipping) this.restartTail(at, false);
  }

  private restartTail(from: number, members: boolean): void {
    this.tail = [];
    this.tailBytes = 0;
    this.tailFrom = from;
    this.marks = [];
    this.skipping = false;
    this.tailHasMembers = members;
  }

  /**
   * Drop whole members from the front of the tail until it fits (down to the closing
   * bracket alone, once seen); when even the member under way does not fit, it is dropped
   * too, and the tail begins again at the next boundary.
   */
  private shortenTail(): void {
    const end = this.pos;
    let keep = -1;
    for (const m of this.marks) {
      if (end - (m + 1) <= this.tailLimit) {
        keep = m + 1;
        break;
      }
    }
    if (keep < 0 && this.closed && end - this.closeAt <= this.tailLimit) {
      keep = this.closeAt;
      this.tailHasMembers = false;
    }
    if (keep < 0) {
      if (this.closed) return this.fail(); // a bracket and more whitespace than the tail holds
      this.restartTail(end, true);
      this.skipping = true;
      return;
    }
    // Let go of the chunks before `keep`; copy the kept part of the one it falls in, so the
    // rest of that chunk is not held with it.
    let at = this.tailFrom;
    while (this.tail.length > 0 && at + this.tail[0].length <= keep) at += this.tail.shift()!.length;
    if (this.tail.length > 0 && at < keep) this.tail[0] = Buffer.from(this.tail[0].subarray(keep - at));
    this.tailBytes = end - keep;
    this.tailFrom = keep;
    this.marks = this.marks.filter((m) => m >= keep);
  }

  private fail(): void {
    this.broken = true;
    this.head.length = 0;
    this.tail = [];
    this.tailBytes = 0;
  }
}

const COMMA_BYTE = Buffer.from(',');
