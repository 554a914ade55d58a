/** JSON Schema `$ref`s within one document, resolved as ajv v8 resolves them, or not at all. */

/** A JSON pointer token of plain characters, `~0`/`~1` escapes and `%XX` escapes: one ajv resolves as we do. */
const PLAIN_TOKEN = /^(?:[A-Za-z0-9_.$-]|~[01]|%[0-9A-Fa-f]{2})*$/;

/**
 * The schema a `#/a/b` reference names in `root`, as ajv finds it (each token URI-decoded, then
 * `~1` and `~0` unescaped); undefined for other references, or a path through a nested `$id`.
 */
export function resolveLocalRef(root: unknown, ref: string): unknown {
  if (ref === '#' || ref === '#/') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at = root;
  for (const token of ref.slice(2).split('/')) {
    if (!PLAIN_TOKEN.test(token)) return undefined;
    let key: string;
    try {
      key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (at !== root && isObject(at) && hasOwn(at, '$id')) return undefined;
    if (Array.isArray(at) && /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < at.length) at = at[Number(key)];
    else if (isObject(at) && hasOwn(at, key)) at = at[key];
    else return undefined;
  }
  return at;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(value: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}
