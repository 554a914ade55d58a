/**
 * Anyone can name any SigV4 access key id: the auth filter must not keep anything for one
 * before a signature made with it verifies, and must not spend an HMAC on an id no AWS
 * client sends (longer than 128 characters). Counted through the filter's calls to
 * `makeWorkspaceKey`: a remembered key is not derived again.
 */
import t, { type Test } from 'tap';
import { Context } from '../../../core/context.js';
import { plainDialect } from '../../../core/dialect.js';
import type { FilterPlugin, FilterVerdict, PluginEnv } from '../../../core/index.js';
import type { AuthConfig } from '../../../filters/auth/index.js';
import * as keys from '../../../filters/auth/keys.js';
import { sha256Hex, signature } from '../../mocks/sigv4-check.js';

const SECRET = 'test-secret-0123456789-abcdef';
const HOST = 'gateway.test';
const PATH = '/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke';
const BODY = Buffer.from('{}');

/** The auth filter, with every workspace key it derives counted by workspace id. */
async function countedAuth(t: Test): Promise<{ verdict: (ctx: Context) => Promise<string>; derived: Map<string, number> }> {
  const derived = new Map<string, number>();
  const { default: auth } = await t.mockImport<{ default: FilterPlugin<AuthConfig> }>('../../../filters/auth/index.js', {
    '../../../filters/auth/keys.js': {
      ...keys,
      makeWorkspaceKey(secret: string, id: string): string {
        derived.set(id, (derived.get(id) ?? 0) + 1);
        return keys.makeWorkspaceKey(secret, id);
      },
    },
  });
  const env = { config: { workspaces: { 'ws-1': { user: 'alice' } } } } as unknown as PluginEnv;
  const filter = await auth.create({ source: 'static', require_keys: true, key_secret: SECRET, workspace_header: 'x-workspace-id' }, env);
  return { verdict: async (ctx) => said(await filter.onRequest!(ctx)), derived };
}

/** `continue`, or the code of the error the filter replied with. */
function said(v: FilterVerdict | void): string {
  return v?.action === 'reply' ? (v.error?.code ?? 'reply') : 'continue';
}

/** A request signed as `id` with `secretAccessKey`, as an AWS SDK signs it. */
function signed(id: string, secretAccessKey: string): Context {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 'bedrock' };
  const headers: Record<string, string> = { host: HOST, 'x-amz-date': amzDate, 'x-amz-content-sha256': sha256Hex(BODY) };
  const signedHeaders = ['host', 'x-amz-content-sha256', 'x-amz-date'];
  const sig = signature({ method: 'POST', rawPath: PATH, rawQuery: '', headers, signedHeaders, payloadHash: sha256Hex(BODY), amzDate, scope, secretAccessKey });
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${id}/${scope.date}/us-east-1/bedrock/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
  const ctx = new Context({
    id: 'r', method: 'POST', path: PATH, query: '', headers, httpVersion: '1.1', remoteAddress: '127.0.0.1',
    route: { name: 'bedrock', mode: 'passthrough' }, subpath: '/', dialect: plainDialect, arrivedAt: 0,
  });
  ctx.body = BODY;
  return ctx;
}


t.test('a signing key is remembered only once a signature made with it verified', async (t) => {
  const { verdict, derived } = await countedAuth(t);
  for (let i = 0; i < 3; i++) t.equal(await verdict(signed('ws-bogus', 'not-the-workspace-key')), 'GW_ERR_AUTH_SIGNATURE', `bad signature ${i + 1} refused`);
  t.equal(derived.get('ws-bogus'), 3, 'derived anew for every bad signature: nothing was kept for it');

  const key = keys.makeWorkspaceKey(SECRET, 'ws-1');
  for (let i = 0; i < 3; i++) t.equal(await verdict(signed('ws-1', key)), 'continue', `good signature ${i + 1} admitted`);
  t.equal(derived.get('ws-1'), 1, 'derived once, then remembered');
});

t.test('an access key id longer than AWS ever issues is refused like a bad signature, without an HMAC', async (t) => {
  const { verdict, derived } = await countedAuth(t);
  const long = `ws-${'a'.repeat(126)}`; // 129 characters
  t.equal(await verdict(signed(long, keys.makeWorkspaceKey(SECRET, long))), 'GW_ERR_AUTH_SIGNATURE', '129 characters: 403, even signed right');
  t.equal(await verdict(signed('A'.repeat(30_000), 'x'.repeat(40))), 'GW_ERR_AUTH_SIGNATURE', '30 000 characters: 403');
  t.equal(derived.size, 0, 'no key derived for either');
  const longest = long.slice(0, 128);
  t.equal(await verdict(signed(longest, keys.makeWorkspaceKey(SECRET, longest))), 'GW_ERR_AUTH_FORBIDDEN', '128 characters: verified, then an unknown workspace');
});
