/**
 * Where clients put credentials: each SDK sends its API key in its own place, so a
 * workspace key is looked for in all of them and the workspace header beside them.
 */
import type { RequestContext } from '../../core/index.js';

/** Where a credential was found; names only, never the value, go to logs. */
export type KeyPlace = 'x-api-key' | 'authorization' | 'x-goog-api-key' | 'query';

export interface PresentedCredential {
  readonly value: string;
  readonly place: KeyPlace;
}

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const trimmed = v?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Every credential the request carries, in order of preference: Anthropic SDKs and Claude
 * Code use `x-api-key`, OpenAI SDKs and AWS bearer mode `Authorization: Bearer`, Google's
 * `x-goog-api-key` or `?key=`.
 */
export function presentedCredentials(ctx: RequestContext): PresentedCredential[] {
  const out: PresentedCredential[] = [];
  const apiKey = single(ctx.headers['x-api-key']);
  if (apiKey) out.push({ value: apiKey, place: 'x-api-key' });
  const authz = single(ctx.headers.authorization);
  if (authz) {
    const m = /^Bearer\s+(\S+)$/i.exec(authz);
    if (m) out.push({ value: m[1], place: 'authorization' });
  }
  const goog = single(ctx.headers['x-goog-api-key']);
  if (goog) out.push({ value: goog, place: 'x-goog-api-key' });
  if (ctx.query.includes('key=')) {
    const q = new URLSearchParams(ctx.query).get('key')?.trim();
    if (q) out.push({ value: q, place: 'query' });
  }
  return out;
}

/** The workspace id claimed by header, if any. */
export function claimedWorkspace(ctx: RequestContext, header: string): string | undefined {
  return single(ctx.headers[header]);
}
