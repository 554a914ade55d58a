/**
 * Workspace keys: `gwk_<base64url(workspace id)>_<base64url(HMAC-SHA256)>`. The key carries
 * its workspace id, so it identifies on its own, and the MAC proves the gateway issued it.
 * Nothing is stored: rotating `key_secret` revokes every key at once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'gwk_';
/** base64url of a 32-byte SHA-256 MAC, without padding. */
const MAC_CHARS = 43;
// Domain separation: the same secret could sign other things later without collisions.
const CONTEXT = 'ai-gateway workspace key v1\0';
/** A secret shorter than this is refused: a workspace key is only as strong as its secret. */
export const MIN_SECRET_LENGTH = 16;

/**
 * The secret keys are signed with, from `key_secret`, `--secret` or `AI_GATEWAY_KEY_SECRET`:
 * surrounding whitespace dropped, because a secret mounted from a file or pasted into an env
 * variable often ends in a newline, and the gateway and `ai-gateway keygen` must sign alike.
 */
export function keySecret(raw: string): string {
  return raw.trim();
}

function mac(secret: string, workspaceId: string): Buffer {
  return createHmac('sha256', secret).update(CONTEXT + workspaceId).digest();
}

/** The key for `workspaceId` under `secret`. */
export function makeWorkspaceKey(secret: string, workspaceId: string): string {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`the key secret must be at least ${MIN_SECRET_LENGTH} characters`);
  if (workspaceId === '') throw new Error('the workspace id must not be empty');
  return `${KEY_PREFIX}${Buffer.from(workspaceId, 'utf8').toString('base64url')}_${mac(secret, workspaceId).toString('base64url')}`;
}

/** Whether a presented credential is meant to be a workspace key (as opposed to some other token). */
export function isWorkspaceKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX);
}

/**
 * The workspace id a key proves, or undefined when it is malformed or its MAC does not
 * match. The MAC comparison is constant-time.
 */
export function verifyWorkspaceKey(secret: string, key: string): string | undefined {
  // The id part is base64url and may itself contain `_`, so split by the MAC's fixed length.
  if (!key.startsWith(KEY_PREFIX) || key.length < KEY_PREFIX.length + 2 + MAC_CHARS) return undefined;
  const sep = key.length - MAC_CHARS - 1;
  if (key[sep] !== '_') return undefined;
  const idPart = key.slice(KEY_PREFIX.length, sep);
  const macPart = key.slice(sep + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(idPart) || !/^[A-Za-z0-9_-]+$/.test(macPart)) return undefined;
  const workspaceId = Buffer.from(idPart, 'base64url').toString('utf8');
  if (workspaceId === '' || Buffer.from(workspaceId, 'utf8').toString('base64url') !== idPart) return undefined;
  const presented = Buffer.from(macPart, 'base64url');
  const expected = mac(secret, workspaceId);
  if (presented.length !== expected.length) return undefined;
  return timingSafeEqual(presented, expected) ? workspaceId : undefined;
}
