/**
 * JSON text at any depth. `JSON.parse` takes a value nested 20,000 levels deep, but V8's
 * `JSON.stringify` stops with a RangeError a few thousand levels down; a body the gateway
 * writes out again (a translation, a rewrite) may hold such a value of the client's.
 */

/** Text written as it is (anything else on the writer's stack is a value). */
class Literal {
  constructor(readonly text: string) {}
}
const COMMA = new Literal(',');
const CLOSE_ARRAY = new Literal(']');
const CLOSE_OBJECT = new Literal('}');

/** Members `JSON.stringify` leaves out of an object (and writes as null in an array). */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * `JSON.stringify(value)` of a JSON-like value (objects, arrays, strings, numbers,
 * booleans, null), written from a stack rather than by recursion; with `sortKeys`, each
 * object's keys in sorted order.
 */
export function writeJson(value: unknown, sortKeys = false): string {
  const parts: string[] = [];
  // What is still to write, the next on top.
  const work: unknown[] = [value];
  while (work.length > 0) {
    const next = work.pop();
    if (next instanceof Literal) parts.push(next.text);
    else if (next === null || typeof next !== 'object') parts.push(omitted(next) ? 'null' : JSON.stringify(next));
    else if (Array.isArray(next)) {
      parts.push('[');
      work.push(CLOSE_ARRAY);
      for (let i = next.length - 1; i >= 0; i--) {
        work.push(next[i]);
        if (i > 0) work.push(COMMA);
      }
    } else {
      const object = next as Record<string, unknown>;
      const keys = Object.keys(object).filter((k) => !omitted(object[k]));
      if (sortKeys) keys.sort();
      parts.push('{');
      work.push(CLOSE_OBJECT);
      for (let i = keys.length - 1; i >= 0; i--) {
        work.push(object[keys[i]], new Literal(`${JSON.stringify(keys[i])}:`));
        if (i > 0) work.push(COMMA);
      }
    }
  }
  return parts.join('');
}

/** `JSON.stringify(value)`, or where it runs out of stack, {@link writeJson}. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return writeJson(value);
  }
}
