/**
 * Workspace identity for SigV4 clients (the AWS SDKs and CLI, boto3): each workspace signs
 * with access key id = its workspace id and secret = its workspace key (`ai-gateway
 * keygen`). The gateway derives that key from `key_secret`, recomputes the signature over
 * the request as it arrived (method, raw path, query, the signed headers, the body's hash)
 * with AWS's maintained `@smithy/signature-v4`, and compares in constant time. Nothing
 * is stored, as with workspace keys.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { defineError, queryParameters } from '../../core/index.js';

// Loaded on the first SigV4 request, so a gateway nobody signs for never pays their import time.
const load = createRequire(import.meta.url);

interface Smithy {
  SignatureV4: typeof import('@smithy/signature-v4').SignatureV4;
  sha256: ConstructorParameters<typeof import('@smithy/signature-v4').SignatureV4>[0]['sha256'];
}

let smithy: Smithy | undefined;

/** Kept once loaded: `require` resolves a package name again on every call, stat calls and all. */
function smithyModules(): Smithy {
  if (!smithy) {
    const { SignatureV4 } = load('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
    const { Hash } = load('@smithy/core/serde') as typeof import('@smithy/core/serde');
    smithy = { SignatureV4, sha256: Hash.bind(null, 'sha256') };
  }
  return smithy;
}

defineError('GW_ERR_AUTH_SIGNATURE', { status: 403, category: 'authentication', kind: 'rejected', message: 'The request signature does not match' });

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS's access key ids are 16 to 128 characters; a longer one is no workspace's to sign with. */
export const MAX_ACCESS_KEY_ID_LENGTH = 128;
/** How far `x-amz-date` may be from the gateway's clock, as AWS allows. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Whether the header is a SigV4 signature at all (then it is ours to judge). */
export function isSigV4(authorization: string | undefined): authorization is string {
  return authorization !== undefined && authorization.startsWith(`${ALGORITHM} `);
}

/** Parse the header; undefined when it is malformed. */
export function parseSigV4(authorization: string): SigV4Authorization | undefined {
  if (!isSigV4(authorization)) return undefined;
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  // The access key id is everything before the four scope parts.
  if (!credential || credential.length < 5 || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const [date, region, service, terminator] = credential.slice(-4);
  const accessKeyId = credential.slice(0, -4).join('/');
  if (terminator !== 'aws4_request' || !/^\d{8}$/.test(date) || !region || !service || accessKeyId === '') return undefined;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** The request as it arrived, as far as the signature covers it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Raw path without the query, exactly as received. */
  readonly path: string;
  /** Raw query without `?`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function amzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/**
 * Check `auth` against `req` with `secretAccessKey`. Resolves undefined when the
 * signature is good, else the reason (safe to show the client: it names no secret).
 */
export async function verifySigV4(req: ReceivedRequest, auth: SigV4Authorization, secretAccessKey: string, now = Date.now()): Promise<string | undefined> {
  const stamp = headerValue(req.headers, 'x-amz-date');
  const at = stamp === undefined ? undefined : amzDate(stamp);
  if (!stamp || !at) return 'the x-amz-date header is missing or malformed';
  if (!stamp.startsWith(auth.date)) return 'the credential scope date does not match x-amz-date';
  if (Math.abs(now - at.getTime()) > MAX_SKEW_MS) return `Signature expired: ${stamp} is more than 15 minutes from the gateway's time`;
  const signed = new Set(auth.signedHeaders);
  if (!(signed.has('host') || signed.has(':authority')) || !signed.has('x-amz-date')) return 'host and x-amz-date must be signed';
  // The body is covered only through its hash: a declared hash must be the body's own.
  const declared = headerValue(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== createHash('sha256').update(req.body).digest('hex')) return 'x-amz-content-sha256 does not match the body';
  const headers: Record<string, string> = {};
  for (const name of signed) {
    // Over HTTP/2 the AWS SDK for JavaScript signs the `:authority` pseudo-header by that
    // name; core hands it over as `host`.
    const v = headerValue(req.headers, name === ':authority' ? 'host' : name);
    if (v === undefined) return `signed header "${name}" is missing`;
    headers[name] = v;
  }
  const { SignatureV4, sha256 } = smithyModules();
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const request = { method: req.method, protocol: 'https:', hostname: headers.host ?? headers[':authority'], path: req.path, query: queryParameters(req.query), headers, body: req.body };
  const out = await signer.sign(request, { signingDate: at, signableHeaders: signed });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(out.headers.authorization ?? ''))?.[1];
  if (!expected) return 'the signature could not be computed';
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex')) ? undefined : 'The request signature we calculated does not match the signature you provided';
}
