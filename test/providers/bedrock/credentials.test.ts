import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { CredentialCache, type AwsCredentials } from '../../../providers/bedrock/credentials.js';
import { startGateway } from '../../helpers/gateway.js';
import { call } from '../../helpers/http.js';
import { anthropicBody, SONNET, sdkClient, startBedrock } from '../../helpers/bedrock.js';

// Nothing from this machine's own AWS set-up may leak into these tests.
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

t.test('CredentialCache: reuses credentials, refreshes inside the window, shares one fetch, survives a failed refresh', async (t) => {
  let now = 1_000_000;
  const calls: Array<boolean | undefined> = [];
  let fail = false;
  const resolver = async (options?: { forceRefresh?: boolean }): Promise<AwsCredentials> => {
    calls.push(options?.forceRefresh);
    if (fail) throw new Error('endpoint down');
    return { accessKeyId: `AKID${calls.length}`, secretAccessKey: 's', expiration: new Date(now + 10 * 60_000) };
  };
  const errors: unknown[] = [];
  const cache = new CredentialCache(resolver, 5 * 60_000, (e) => errors.push(e), () => now);
  t.equal((await cache.get()).accessKeyId, 'AKID1');
  now += 4 * 60_000;
  t.equal((await cache.get()).accessKeyId, 'AKID1', 'six minutes left: cached');
  now += 2 * 60_000;
  const [a, b] = await Promise.all([cache.get(), cache.get()]);
  t.same([a.accessKeyId, b.accessKeyId], ['AKID2', 'AKID2'], 'four minutes left: refreshed once for two callers');
  t.same(calls, [undefined, true], 'the refresh forces past the chain cache');
  now += 6 * 60_000;
  fail = true;
  t.equal((await cache.get()).accessKeyId, 'AKID2', 'refresh failed, old ones still valid: used');
  t.equal(errors.length, 1, 'and the failure reported');
  now += 5 * 60_000;
  await t.rejects(cache.get(), /endpoint down/, 'expired and no refresh: an error');
});

t.test('temporary credentials from an ECS-style endpoint are refreshed before they expire', async (t) => {
  const issued = [
    { AccessKeyId: 'ASIATEMP0000000001', SecretAccessKey: 'temp-secret-1', Token: 'session-token-1', Expiration: new Date(Date.now() + 60_000).toISOString() },
    { AccessKeyId: 'ASIATEMP0000000002', SecretAccessKey: 'temp-secret-2', Token: 'session-token-2', Expiration: new Date(Date.now() + 3_600_000).toISOString() },
  ];
  let hits = 0;
  const endpoint = http.createServer((req, res) => {
    const creds = issued[Math.min(hits++, issued.length - 1)];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(creds));
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => endpoint.close(() => r())));
  process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/creds`;
  t.teardown(() => void delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);

  const mockCredentials = issued.map((c) => ({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token }));
  const { mock, endpoint: bedrock, gw } = await startBedrock(t, { credentials: null, mockCredentials });
  t.equal(hits, 0, 'nothing fetched at start');
  const client = sdkClient(t, bedrock, 'h1');
  const used: string[] = [];
  for (let i = 0; i < 3; i++) {
    await client.send(new InvokeModelCommand({ modelId: SONNET, body: anthropicBody() }));
    used.push(mock.last!.accessKeyId!);
  }
  t.same(used, ['ASIATEMP0000000001', 'ASIATEMP0000000002', 'ASIATEMP0000000002'], 'the short-lived key once, then the refreshed one (with its session token, verified by the mock)');
  t.equal(hits, 2, 'two fetches for three requests');

  const listing = await call(`${gw.url}/v1/providers`);
  const entry = listing.json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'bedrock');
  t.match(entry, { configured: true, status: 'ok', region: 'us-east-1', credential_source: 'container', credentials_expire_at: issued[1].Expiration });
  t.notMatch(listing.text, /temp-secret|session-token/, 'no secret in /v1/providers');
  const health = await call(`${bedrock}/health`);
  t.equal(health.status, 200);
  t.match(health.json(), { status: 'ok', detail: /container/ });
  t.notMatch(JSON.stringify(gw.logs), /temp-secret|session-token/, 'no secret in the logs');
});

t.test('without AWS credentials the provider is unconfigured: 503 in Bedrock shape, and no network at start', async (t) => {
  const { mock, endpoint, gw } = await startBedrock(t, { credentials: null });
  const res = await call(`${endpoint}/model/${encodeURIComponent(SONNET)}/converse`, { headers: { 'x-workspace-id': 'ws-bedrock-1' }, body: '{"messages":[]}' });
  t.equal(res.status, 503);
  t.equal(res.headers['x-amzn-errortype'], 'ServiceUnavailableException');
  t.equal(mock.requests.length, 0);
  const health = await call(`${endpoint}/health`);
  t.equal(health.status, 503);
  const entry = (await call(`${gw.url}/v1/providers`)).json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'bedrock');
  t.match(entry, { configured: false, status: 'unconfigured', credential_source: 'none', models: ['anthropic.claude-3-opus-20240229-v1:0', 'anthropic.claude-3-sonnet-20240229-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0', 'amazon.titan-text-express-v1', 'amazon.titan-text-lite-v1'] });
});

t.test('the embedded default config starts with Bedrock unconfigured', async (t) => {
  const yaml = readFileSync(new URL('../../../configs/config.yaml', import.meta.url), 'utf8');
  const gw = await startGateway(t, yaml);
  const entry = (await call(`${gw.url}/v1/providers`)).json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'bedrock');
  t.match(entry, { type: 'bedrock', route_prefix: '/v1/bedrock', configured: false, region: 'us-east-1', base_url: 'https://bedrock-runtime.us-east-1.amazonaws.com', credential_source: 'none' });
});
