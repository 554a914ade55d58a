/**
 * A JSON Schema judged on a body's tape, without building the body: `ctx.jsonCheck(check)`.
 * A coding agent's turn holds hundreds of messages and blocks, and a validator that picks
 * them as objects to hand to ajv spent more on the objects than on judging them.
 *
 * The verdict is ajv v8's for the keywords check-rules.ts compiles; a schema with any other
 * does not compile, and its reader judges the body another way. Only "valid" is acted on:
 * an invalid body is judged again by ajv for its error message.
 */
import { MAX_REQUIRED, T_ARRAY, T_BOOLEAN, T_INTEGER, T_NULL, T_NUMBER, T_OBJECT, T_STRING, type JsonCheck, type Rule } from './check-rules.js';
import { afterValue, ARRAY, ESCAPED_STRING, escapedText, FALSE, indexOfBytes, NUMBER, OBJECT, STRING, TRUE, type Tape } from './tape.js';

export { compileJsonCheck, type JsonCheck } from './check-rules.js';

/** Past this depth of schema recursion over the body the check says "not sure". */
const MAX_DEPTH = 128;

/** Whether the body on `tape` satisfies the schema `check` was compiled from. */
export function checkTape(tape: Tape, check: JsonCheck): boolean {
  return new TapeChecker(tape).passes(0, check.root, 0);
}

class TapeChecker {
  private readonly bytes: Buffer;
  private readonly entries: Int32Array;

  constructor(tape: Tape) {
    this.bytes = tape.bytes;
    this.entries = tape.entries;
  }

  passes(i: number, r: Rule, depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const kind = this.entries[2 * i] & 7;
    switch (kind) {
      case OBJECT:
        // An enum here holds primitives only: never an object or an array.
        if ((r.types & T_OBJECT) === 0 || r.enumValues !== undefined) return false;
        if (!this.object(i, r, depth)) return false;
        break;
      case ARRAY:
        if ((r.types & T_ARRAY) === 0 || r.enumValues !== undefined) return false;
        if (!this.array(i, r, depth)) return false;
        break;
      case STRING:
      case ESCAPED_STRING:
        if ((r.types & T_STRING) === 0 || !this.string(i, kind, r)) return false;
        break;
      case NUMBER:
        if (!this.number(i, r)) return false;
        break;
      case TRUE:
      case FALSE:
        if ((r.types & T_BOOLEAN) === 0 || (r.enumValues !== undefined && !r.enumValues.includes(kind === TRUE))) return false;
        break;
      default:
        if ((r.types & T_NULL) === 0 || (r.enumValues !== undefined && !r.enumValues.includes(null))) return false;
    }
    for (let k = 0; k < r.allOf.length; k++) if (!this.passes(i, r.allOf[k], depth + 1)) return false;
    for (let k = 0; k < r.anyOf.length; k++) if (!this.any(i, r.anyOf[k], depth + 1)) return false;
    return true;
  }

  private any(i: number, rules: Rule[], depth: number): boolean {
    for (let k = 0; k < rules.length; k++) if (this.passes(i, rules[k], depth)) return true;
    return false;
  }

  private object(i: number, r: Rule, depth: number): boolean {
    if (r.names.length === 0 && r.additional === undefined) return true; // nothing asked of the members
    const end = this.entries[2 * i + 1];
    let seen = 0;
    for (let name = i + 1; name < end; ) {
      const value = name + 1;
      const k = r.names.length === 0 ? -1 : this.memberIndex(name, r);
      const property = k >= 0 ? r.properties[k] : undefined;
      if (k >= 0 && k < MAX_REQUIRED) seen |= 1 << k; // required names have the first bits
      if (property !== undefined) {
        if (!this.passes(value, property, depth + 1)) return false;
      } else if (r.additional === null) {
        return false;
      } else if (r.additional !== undefined && !this.passes(value, r.additional, depth + 1)) {
        return false;
      }
      name = this.next(value);
    }
    return (seen & r.required) === r.required;
  }

  private array(i: number, r: Rule, depth: number): boolean {
    if (r.items === undefined && r.minItems === 0 && r.maxItems === Infinity) return true;
    const end = this.entries[2 * i + 1];
    let length = 0;
    for (let item = i + 1; item < end; item = this.next(item)) {
      length++;
      if (r.items !== undefined && !this.passes(item, r.items, depth + 1)) return false;
    }
    return length >= r.minItems && length <= r.maxItems;
  }

  private string(i: number, kind: number, r: Rule): boolean {
    if (kind === ESCAPED_STRING) {
      // Decoded only when something is asked of the text: a prompt's strings are escaped
      // (every newline), and decoding 100 KB of them per anyOf branch was most of a request.
      if (r.enumValues === undefined && r.maxLength === Infinity) {
        // An escape takes at most 12 bytes per character (a surrogate pair as two `\uXXXX`).
        const raw = this.entries[2 * i + 1] - (this.entries[2 * i] >> 3) - 1;
        if (raw >= 12 * r.minLength) return true;
      }
      const text = this.escaped(i);
      if (r.enumValues !== undefined && !r.enumValues.includes(text)) return false;
      return r.minLength === 0 && r.maxLength === Infinity ? true : within(codePoints(text), r);
    }
    const from = (this.entries[2 * i] >> 3) + 1;
    const to = this.entries[2 * i + 1];
    if (r.enumValues !== undefined && indexOfBytes(this.bytes, from, to, r.enumBytes) < 0) return false;
    if (r.maxLength === Infinity && to - from >= 4 * r.minLength) return true; // no character takes more than 4 bytes
    // Characters as ajv counts them (a surrogate pair is one): UTF-8 sequences, by their lead bytes.
    let length = 0;
    const bytes = this.bytes;
    for (let at = from; at < to; at++) if ((bytes[at] & 0xc0) !== 0x80) length++;
    return within(length, r);
  }

  private number(i: number, r: Rule): boolean {
    const from = this.entries[2 * i] >> 3;
    const value = Number(this.bytes.toString('latin1', from, this.entries[2 * i + 1]));
    // A number JSON.parse reads as an infinity (1e400): not sure, left to ajv.
    if (!Number.isFinite(value)) return false;
    if ((r.types & T_NUMBER) === 0 && ((r.types & T_INTEGER) === 0 || value % 1 !== 0)) return false;
    if (r.enumValues !== undefined && !r.enumValues.includes(value)) return false;
    return value >= r.minimum && value <= r.maximum && value > r.exclusiveMinimum && value < r.exclusiveMaximum;
  }

  private next(i: number): number {
    return afterValue(this.entries, i);
  }

  /** Which of the rule's property names the member name at entry i is, or -1. */
  private memberIndex(i: number, r: Rule): number {
    if ((this.entries[2 * i] & 7) === ESCAPED_STRING) return r.names.indexOf(this.escaped(i));
    return indexOfBytes(this.bytes, (this.entries[2 * i] >> 3) + 1, this.entries[2 * i + 1], r.nameBytes);
  }

  private escaped(i: number): string {
    return escapedText(this.bytes, this.entries, i);
  }
}

function within(length: number, r: Rule): boolean {
  return length >= r.minLength && length <= r.maxLength;
}

/** Characters as ajv's `ucs2length` counts them: a surrogate pair is one. */
function codePoints(text: string): number {
  let length = 0;
  for (let at = 0; at < text.length; at++, length++) {
    const c = text.charCodeAt(at);
    if (c >= 0xd800 && c <= 0xdbff && at + 1 < text.length && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00) at++;
  }
  return length;
}
