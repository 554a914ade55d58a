/**
 * An upstream's error answer may quote the request it refused: a proxy's debug page, an
 * echo service a `base_url` points at by mistake, AWS's signature-mismatch error with its
 * canonical request (the session token among the signed headers). Passed through, it would
 * hand the gateway's own credential to the client. So the credentials the gateway put on
 * the upstream request are blanked in an error answer's headers and body before anyone
 * sees them. Successful answers stream untouched: a provider never echoes a key there.
 */
import { GatewayError } from './errors.js';
import { CLIENT_CREDENTIAL_HEADERS } from './http-headers.js';
import type { ProviderResponse } from './types.js';

/** Written where a credential was. */
export const REDACTED = '[REDACTED]';

/**
 * Request headers whose value (or its token) is a credential the gateway sent: the ones no
 * client's may cross, and the AWS session token. Not every `x-amz-*`: a date or a body hash
 * is no secret, and blanking it would mangle the error.
 */
const SECRET_HEADERS: readonly string[] = [...CLIENT_CREDENTIAL_HEADERS, 'x-amz-security-token'];

/** Shorter values are no key, and blanking them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** Largest error answer read to be cleaned; real ones are a few hundred bytes. */
export const ERROR_BODY_LIMIT = 1024 * 1024;

/** The credential strings in the upstream request's final headers, as an answer could quote them. */
export function sentCredentials(headers: Record<string, string | string[]>): string[] {
  const found = new Set<string>();
  const add = (value: string): void => {
    if (value.length < MIN_SECRET_LENGTH) return;
    found.add(value);
    // JSON writers that escape `/` (PHP's, some Java ones) and URL-encoders quote it otherwise.
    found.add(value.replaceAll('/', '\\/'));
    found.add(encodeURIComponent(value));
  };
  for (const name of SECRET_HEADERS) {
    const raw = headers[name];
    if (raw === undefined) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      add(value);
      // `Bearer <token>`, `Basic <token>`: the token alone is the secret.
      const space = value.indexOf(' ');
      if (space > 0 && !value.startsWith('AWS4-')) add(value.slice(space + 1).trim());
      // SigV4: the signature is single-use; the access key id names the gateway's AWS identity.
      const credential = /Credential=([^/,\s]+)\//.exec(value);
      if (credential) add(credential[1]);
    }
  }
  // Longest first: a token is blanked whole before a shorter string inside it is looked for.
  return [...found].sort((a, b) => b.length - a.length);
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  return out;
}

/**
 * `res` (an error answer) with every string of `secrets` blanked in its header values and
 * its body, which is read whole for it (bounded by {@link ERROR_BODY_LIMIT}). `readError`
 * maps a failure while reading, as a body read elsewhere would be.
 */
export async function withoutSentCredentials(res: ProviderResponse, secrets: readonly string[], readError: (err: unknown) => GatewayError): Promise<ProviderResponse> {
  for (const name in res.headers) {
    const value = res.headers[name];
    res.headers[name] = Array.isArray(value) ? value.map((v) => scrubText(v, secrets)) : scrubText(value, secrets);
  }
  const body = res.body;
  if (body === null) return res;
  let bytes: Buffer;
  if (body instanceof Uint8Array) bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > ERROR_BODY_LIMIT) throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${res.status} with an error body larger than the ${ERROR_BODY_LIMIT} bytes the gateway reads`);
        chunks.push(chunk);
      }
    } catch (err) {
      (body as { destroy?: () => void }).destroy?.();
      throw err instanceof GatewayError ? err : readError(err);
    }
    bytes = Buffer.concat(chunks, size);
  }
  // latin1 maps every byte to one char and back: bytes that are not UTF-8 survive unchanged.
  const text = bytes.toString('latin1');
  const cleaned = scrubText(text, secrets);
  const out = cleaned === text ? bytes : Buffer.from(cleaned, 'latin1');
  if (res.headers['content-length'] !== undefined) res.headers['content-length'] = String(out.length);
  delete res.headers['transfer-encoding'];
  return { ...res, body: out };
}
