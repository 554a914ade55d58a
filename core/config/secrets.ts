/**
 * The secrets a config holds, for the operational log to blank out of error messages:
 * values of the keys that carry credentials (provider keys, AWS secrets, the auth filter's
 * signing secret, the admin token) and the passwords inside URLs (a Redis store's).
 */
const SECRET_KEYS = new Set(['api_key', 'secret_access_key', 'session_token', 'key_secret', 'token', 'password']);
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]+)@/i;
/** Shorter values are not credentials, and blanking them would blank words. */
const MIN_SECRET_LENGTH = 8;

export function configSecrets(config: unknown): string[] {
  const found: string[] = [];
  const stack: Array<[string, unknown]> = [['', config]];
  while (stack.length > 0) {
    const [key, value] = stack.pop()!;
    if (typeof value === 'string') {
      const secret = SECRET_KEYS.has(key) ? value : URL_PASSWORD.exec(value)?.[1];
      if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) found.push(secret);
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push([key, item]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) stack.push([k, v]);
    }
  }
  return found;
}
