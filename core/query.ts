/** The query string: without the credential a client may put in it, and read as signers read it. */

/**
 * The query string without any `key` parameter (encoded or not), other parameters byte for
 * byte: a client's key (some APIs take their key there, and so may a gateway's own
 * identity check) never goes upstream, and never into anything kept (a cache key).
 * @example
 * withoutKey('alt=sse&key=abc') // 'alt=sse'
 */
export function withoutKey(query: string): string {
  return withoutParameters(query, (name) => name === 'key');
}

/**
 * The query string without the parameters whose decoded name `drop` picks, the others byte
 * for byte.
 * @example
 * withoutParameters('a=1&X-Amz-Signature=f0', (n) => n.toLowerCase().startsWith('x-amz-')) // 'a=1'
 */
export function withoutParameters(query: string, drop: (name: string) => boolean): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => {
      const name = pair.split('=', 1)[0].replace(/\+/g, ' ');
      try {
        return !drop(decodeURIComponent(name));
      } catch {
        return !drop(name);
      }
    })
    .join('&');
}

/**
 * The query's parameters as a URI has them, for SigV4 (which signs them decoded, then
 * encoded again): names to values, percent-decoded, repeated names as arrays. A `+` is
 * itself (`%2B` to the signer, as AWS reads it), not HTML forms' space.
 * @example
 * queryParameters('x=a+b&y=%20&y') // { x: 'a+b', y: [' ', ''] }
 */
export function queryParameters(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // URLSearchParams splits on `&` and the first `=` and leaves a malformed escape as
  // written; only its `+` → space rule is undone, by writing each `+` as the `%2B` it is.
  for (const [k, v] of new URLSearchParams(query.replaceAll('+', '%2B'))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
