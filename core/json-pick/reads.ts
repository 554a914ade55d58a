/**
 * What a reader looks at in a request body: the contract of `ctx.jsonPick(reads)`.
 *
 * A 100 KB coding-agent turn is mostly tool schemas, tool calls and tool results that the
 * gateway forwards without looking at; building all of it as objects (JSON.parse) was most
 * of the gateway's CPU for such a request. A reader that says what it looks at gets a tree
 * holding just that, read from the bytes without building the rest.
 *
 * `jsonPick(reads)` returns a value that equals `ctx.jsonShape()` wherever `reads` looks, and
 * elsewhere keeps each value's JSON type: an object keeps only the members `reads` names
 * (all of them with `otherMembers`), an array is empty unless `items` is given (then it
 * keeps its length), a string is `""` unless `text` is given. Numbers, booleans and null
 * are always as they are. `{}` reads a value's type alone; `{ whole: true }` reads it all.
 * It refuses exactly what `jsonShape()` refuses.
 */
export interface JsonReads {
  /** The whole value, as `jsonShape()` holds it. */
  readonly whole?: true;
  /** Of an object: these members, by name (as text); members not named are left out unless `otherMembers` reads them. */
  readonly members?: Readonly<Record<string, JsonReads>>;
  /** Of an object: every member `members` does not name. */
  readonly otherMembers?: JsonReads;
  /** Of an array: every item (the array keeps its length). Without it an array reads as `[]`. */
  readonly items?: JsonReads;
  /**
   * With `items`: only the last this many items are read by it, the ones before by their
   * type alone (`{}`, `[]`, `""`). For a reader that looks at a conversation's last turns.
   */
  readonly lastItems?: number;
  /** Of a string: its text (as `jsonShape()` holds it). Without it a string reads as `""`. */
  readonly text?: true;
}

/** Reads of the whole value. */
export const WHOLE: JsonReads = Object.freeze({ whole: true });

/** A value's JSON type alone. */
export const TYPE_ONLY: JsonReads = Object.freeze({});

/**
 * Reads that look at everything either looks at: what a value read by both must keep.
 * @example
 * unionReads({ members: { a: {} } }, { members: { b: { text: true } } }) // { members: { a: {}, b: { text: true } } }
 */
export function unionReads(a: JsonReads, b: JsonReads): JsonReads {
  if (a.whole || b.whole) return WHOLE;
  const out: { -readonly [K in keyof JsonReads]: JsonReads[K] } = {};
  if (a.text || b.text) out.text = true;
  if (a.items || b.items) {
    out.items = a.items && b.items ? unionReads(a.items, b.items) : (a.items ?? b.items);
    // All items are read if a side that reads items reads them all; else the more of the last.
    const lasts = [a, b].filter((side) => side.items).map((side) => side.lastItems);
    if (!lasts.includes(undefined)) out.lastItems = Math.max(...(lasts as number[]));
  }
  if (a.otherMembers || b.otherMembers) out.otherMembers = a.otherMembers && b.otherMembers ? unionReads(a.otherMembers, b.otherMembers) : (a.otherMembers ?? b.otherMembers);
  if (a.members || b.members) {
    const members: Record<string, JsonReads> = Object.create(null) as Record<string, JsonReads>;
    for (const from of [a, b]) {
      for (const [name, reads] of Object.entries(from.members ?? {})) {
        // Defined, not assigned: a member named __proto__ is a name like any other.
        Object.defineProperty(members, name, { value: name in members ? unionReads(members[name], reads) : reads, enumerable: true, writable: true, configurable: true });
      }
    }
    // A member not named on one side is read there by its otherMembers, if any.
    for (const name of Object.keys(members)) {
      for (const side of [a, b]) {
        if (side.otherMembers && !(side.members && Object.prototype.hasOwnProperty.call(side.members, name))) members[name] = unionReads(members[name], side.otherMembers);
      }
    }
    out.members = members;
  }
  return out;
}
