/** What the `anthropic_betas` tests share: a workspace's request with a beta header, and the bodies the mock got. */
import { call } from './http.js';
import { WORKSPACE } from './bedrock.js';

/** POST `body` as the test workspace, with `anthropic-beta: beta` when given. */
export function postWithBetas(url: string, body: string, beta?: string) {
  return call(url, { headers: { 'x-workspace-id': WORKSPACE, ...(beta !== undefined ? { 'anthropic-beta': beta } : {}) }, body });
}

/** The JSON body the mock received. */
export function sent(up: { body: Buffer }): Record<string, unknown> {
  return JSON.parse(up.body.toString('utf8')) as Record<string, unknown>;
}

/** The InvokeModel body inside a CountTokens call the mock received (base64 in its envelope). */
export function countedBody(up: { body: Buffer }): Record<string, unknown> {
  const envelope = JSON.parse(up.body.toString('utf8')) as { input: { invokeModel: { body: string } } };
  return JSON.parse(Buffer.from(envelope.input.invokeModel.body, 'base64').toString('utf8')) as Record<string, unknown>;
}
