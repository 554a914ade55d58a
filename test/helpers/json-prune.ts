/**
 * The contract of `ctx.jsonPick(reads)` in plain JavaScript, as an oracle for tests: `value`
 * where `reads` looks, elsewhere only each value's JSON type (see core/json-pick/reads.ts).
 * Slow and obvious on purpose; the gateway's own is read from the bytes.
 */
import type { JsonReads } from '../../core/json-pick/reads.js';

/**
 * `value` (a parsed JSON value) kept as far as `reads` looks.
 * @example
 * pruneByReads({ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{}] }, { members: { model: { text: true }, messages: { items: {} } } })
 * // { model: 'm', messages: [{}] }
 */
export function pruneByReads(value: unknown, reads: JsonReads): unknown {
  if (reads.whole) return value;
  if (typeof value === 'string') return reads.text ? value : '';
  if (Array.isArray(value)) {
    const items = reads.items;
    if (!items) return [];
    const from = reads.lastItems === undefined ? 0 : value.length - reads.lastItems;
    return value.map((item, i) => pruneByReads(item, i >= from ? items : {}));
  }
  if (value === null || typeof value !== 'object') return value; // numbers, booleans, null: always kept
  // An ordinary object, as JSON.parse makes: validators see its prototype's members too.
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    const memberReads = reads.members && Object.prototype.hasOwnProperty.call(reads.members, name) ? reads.members[name] : reads.otherMembers;
    // Defined, not assigned: a member named __proto__ is data, as JSON.parse makes it.
    if (memberReads) Object.defineProperty(out, name, { value: pruneByReads(member, memberReads), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
