/** The query string without the credential a client may put in it. */

/**
 * The query string without any `key` parameter (encoded or not), other parameters byte for
 * byte: a client's key (some APIs take their key there, and so may a gateway's own
 * identity check) never goes upstream, and never into anything kept (a cache key).
 * @example
 * withoutKey('alt=sse&key=abc') // 'alt=sse'
 */
export function withoutKey(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => {
      const name = pair.split('=', 1)[0].replace(/\+/g, ' ');
      try {
        return decodeURIComponent(name) !== 'key';
      } catch {
        return name !== 'key';
      }
    })
    .join('&');
}
