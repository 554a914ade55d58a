/**
 * An independent SigV4 verifier for the mock Bedrock Runtime, written from AWS's
 * specification with node:crypto only, so the gateway's signing library never checks
 * itself. Canonical request → string to sign → HMAC chain, from the request exactly as
 * received: the raw path's segments are URI-encoded once more (non-S3 services sign
 * paths double-encoded), the query is decoded then re-encoded and sorted.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** Raw path as received, without the query. */
  rawPath: string;
  /** Raw query without `?`. */
  rawQuery: string;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: readonly string[];
  payloadHash: string;
  amzDate: string;
  scope: { date: string; region: string; service: string };
  secretAccessKey: string;
}

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 demands. */
export function uriEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function canonicalUri(rawPath: string): string {
  return rawPath.split('/').map(uriEncode).join('/') || '/';
}

export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery.split('&').map((p) => {
    const eq = p.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? p : p.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1));
    return [uriEncode(k), uriEncode(v)] as const;
  });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function canonicalRequest(r: SignedRequest): string {
  const headers = r.signedHeaders.map((name) => {
    const v = r.headers[name];
    const value = (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
    return `${name}:${value}\n`;
  });
  return [r.method, canonicalUri(r.rawPath), canonicalQuery(r.rawQuery), headers.join(''), r.signedHeaders.join(';'), r.payloadHash].join('\n');
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function signature(r: SignedRequest): string {
  const scope = `${r.scope.date}/${r.scope.region}/${r.scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', r.amzDate, scope, sha256Hex(canonicalRequest(r))].join('\n');
  const kDate = hmac(`AWS4${r.secretAccessKey}`, r.scope.date);
  const kSigning = hmac(hmac(hmac(kDate, r.scope.region), r.scope.service), 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

export interface ParsedAuthorization {
  accessKeyId: string;
  scope: { date: string; region: string; service: string };
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return undefined;
  return { accessKeyId: m[1], scope: { date: m[2], region: m[3], service: m[4] }, signedHeaders: m[5].split(';'), signature: m[6] };
}
