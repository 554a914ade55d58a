/**
 * Claude Code on Bedrock (`CLAUDE_CODE_USE_BEDROCK=1`, `ANTHROPIC_BEDROCK_BASE_URL` at
 * `/v1/bedrock`) lists the system-defined inference profiles at start with
 * `@aws-sdk/client-bedrock` (ListInferenceProfiles, `typeEquals: 'SYSTEM_DEFINED'`,
 * following `nextToken`), and reads an application profile (GetInferenceProfile, its ARN
 * as one segment) to find its model. Before the gateway served them the answer was a 404,
 * and Claude Code fell back to test calls that are billed. The requests here have the shape
 * the SDK gives them (2.1.197's bundle): its headers, the workspace key as a Bedrock API
 * key (Bearer) or a SigV4 signature made by the SDK's own signer. They go to the control
 * plane's host (the mock started with `api: 'control'`, which verifies the gateway's
 * signature), are auxiliary (audited, not limited, nothing charged), and no write passes.
 */
import path from 'node:path';
import t from 'tap';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { call, type Reply } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { GATEWAY_CREDS, WORKSPACE, WORKSPACE_KEY, startBedrock, workspaceSigner } from '../../helpers/bedrock.js';
import type { TestGateway } from '../../helpers/gateway.js';
import { MOCK_FOUNDATION_MODELS, MOCK_PROFILES } from '../../mocks/bedrock-control-plane.js';

const FILTERS = `  - name: cost
  - name: rate-limit
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }`;
/** One request a minute: a catalogue read that counted would be refused by the second. */
const ONE_PER_MINUTE = `rate_limits:
  default:
    requests_per_minute: 1`;

const APP_PROFILE = MOCK_PROFILES.find((p) => p.type === 'APPLICATION')!;
const SYSTEM_PROFILES = MOCK_PROFILES.filter((p) => p.type === 'SYSTEM_DEFINED');

/** The headers `@aws-sdk/client-bedrock` adds to a call, as Claude Code 2.1.197 sends them. */
function sdkHeaders(): Record<string, string> {
  return {
    'user-agent': 'aws-sdk-js/3.940.0 ua/2.1 os/linux lang/js md/bun#1.4.0 api/bedrock#3.940.0 m/E,N',
    'x-amz-user-agent': 'aws-sdk-js/3.940.0',
    'amz-sdk-invocation-id': '6f1f4c8e-0000-4000-8000-000000000000',
    'amz-sdk-request': 'attempt=1; max=3',
  };
}

/** A GET signed as `@aws-sdk/client-bedrock` signs it with the workspace's SigV4 pair: service `bedrock`, the path escaped again. */
async function sigv4Get(gw: TestGateway, target: string): Promise<Reply> {
  const url = new URL(`${gw.url}/v1/bedrock${target}`);
  const signer = workspaceSigner();
  const rawPath = `/v1/bedrock${target.split('?')[0]}`;
  const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: rawPath, query: Object.fromEntries(url.searchParams), headers: { host: url.host, ...sdkHeaders() } });
  return call(`${gw.url}/v1/bedrock${target}`, { headers: signed.headers as Record<string, string> });
}

function bearerGet(gw: TestGateway, target: string): Promise<Reply> {
  return call(`${gw.url}/v1/bedrock${target}`, { headers: { ...sdkHeaders(), authorization: `Bearer ${WORKSPACE_KEY}` } });
}

async function auditFor(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  const file = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(file).some((l) => l.request_id === requestId));
  return auditLines(file).find((l) => l.request_id === requestId)!;
}

t.test('Bearer: the profile list and an application profile from the control plane, auxiliary, not limited, nothing charged', async (t) => {
  const { mock, control, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS, extraYaml: ONE_PER_MINUTE });

  const list = await bearerGet(gw, '/inference-profiles?type=SYSTEM_DEFINED');
  t.equal(list.status, 200, `ListInferenceProfiles answered (${list.text.slice(0, 200)})`);
  const ids = list.json<{ inferenceProfileSummaries: Array<{ inferenceProfileId: string }> }>().inferenceProfileSummaries.map((p) => p.inferenceProfileId);
  t.same(ids, SYSTEM_PROFILES.map((p) => p.inferenceProfileId), "the control plane's system-defined profiles");
  const up = control.last!;
  t.equal(up.url, '/inference-profiles?type=SYSTEM_DEFINED', 'the path and query as the SDK sent them, on the control-plane host');
  t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, "signed for bedrock with the gateway's key (verified by the mock)");
  t.notMatch(JSON.stringify(up.headers), WORKSPACE_KEY, "the client's key is never forwarded");
  t.equal(up.headers['amz-sdk-invocation-id'], sdkHeaders()['amz-sdk-invocation-id'], "the SDK's other headers pass");
  t.equal(mock.requests.length, 0, 'nothing went to the Runtime host');

  const id = String(list.headers['x-request-id']);
  const rec = await outcomeFor(id);
  t.equal(rec.kind, 'auxiliary', 'a catalogue read is auxiliary');
  t.equal(rec.identity?.workspace, WORKSPACE);
  const line = await auditFor(gw, id);
  t.match(line, { event: 'ai_request', workspace: WORKSPACE, provider: 'bedrock', tokens_in: 0, tokens_out: 0, status: 200, method: 'GET', path: '/v1/bedrock/inference-profiles', cost_usd: 0 });
  t.notOk(line.price_missing, 'nothing to price');

  // Pages, as the SDK's loop follows them: each a request, none limited at one a minute.
  const first = await bearerGet(gw, '/inference-profiles?type=SYSTEM_DEFINED&maxResults=2');
  t.equal(first.status, 200, 'a second read in the minute is not limited');
  const page = first.json<{ inferenceProfileSummaries: unknown[]; nextToken?: string }>();
  t.equal(page.inferenceProfileSummaries.length, 2);
  t.equal(page.nextToken, '2');
  const second = await bearerGet(gw, `/inference-profiles?type=SYSTEM_DEFINED&maxResults=2&nextToken=${page.nextToken}`);
  t.equal(second.status, 200);
  t.same(second.json<{ inferenceProfileSummaries: Array<{ inferenceProfileId: string }> }>().inferenceProfileSummaries.map((p) => p.inferenceProfileId), [SYSTEM_PROFILES[2].inferenceProfileId]);

  // GetInferenceProfile, as Claude Code resolves an application profile's model: the ARN as one segment.
  const one = await bearerGet(gw, `/inference-profiles/${encodeURIComponent(APP_PROFILE.inferenceProfileArn)}`);
  t.equal(one.status, 200, `GetInferenceProfile by ARN (${one.text.slice(0, 200)})`);
  t.equal(one.json<{ models: Array<{ modelArn: string }> }>().models[0].modelArn, APP_PROFILE.models[0].modelArn);
  t.equal(control.last!.url, `/inference-profiles/${encodeURIComponent(APP_PROFILE.inferenceProfileArn)}`, 'the ARN segment forwarded as sent');
  t.equal(control.last!.accessKeyId, GATEWAY_CREDS.accessKeyId);
  t.equal((await outcomeFor(String(one.headers['x-request-id']))).kind, 'auxiliary');
});

t.test('SigV4: the SDK-signed catalogue reads pass the workspace check and are signed anew for the control plane', async (t) => {
  const { mock, control, gw } = await startBedrock(t, { requireKeys: true });
  const reads: Array<[string, (r: Reply) => unknown, unknown]> = [
    ['/inference-profiles?type=SYSTEM_DEFINED', (r) => r.json<{ inferenceProfileSummaries: unknown[] }>().inferenceProfileSummaries.length, SYSTEM_PROFILES.length],
    [`/inference-profiles/${encodeURIComponent(APP_PROFILE.inferenceProfileArn)}`, (r) => r.json<{ inferenceProfileId: string }>().inferenceProfileId, APP_PROFILE.inferenceProfileId],
    ['/foundation-models?byProvider=anthropic', (r) => r.json<{ modelSummaries: Array<{ modelId: string }> }>().modelSummaries.map((m) => m.modelId), [MOCK_FOUNDATION_MODELS[0].modelId]],
    [`/foundation-models/${encodeURIComponent(MOCK_FOUNDATION_MODELS[1].modelId)}`, (r) => r.json<{ modelDetails: { modelId: string } }>().modelDetails.modelId, MOCK_FOUNDATION_MODELS[1].modelId],
  ];
  for (const [target, read, expected] of reads) {
    const res = await sigv4Get(gw, target);
    t.equal(res.status, 200, `${target}: admitted and answered (${res.headers['x-amzn-errortype'] ?? 'ok'} ${res.status === 200 ? '' : res.text})`);
    if (res.status !== 200) continue;
    t.same(read(res), expected, `${target}: the control plane's answer`);
    t.equal(control.last!.url, target, `${target}: forwarded as sent`);
    t.equal(control.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, `${target}: signed with the gateway's key`);
    t.notMatch(String(control.last!.headers.authorization), WORKSPACE, "the workspace's signature is not forwarded");
  }
  t.equal(control.requests.length, reads.length);
  t.equal(mock.requests.length, 0, 'nothing went to the Runtime host');
});

t.test('no write reaches the control plane; a request with no key is refused before it', async (t) => {
  const { mock, control, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  const auth = { ...sdkHeaders(), authorization: `Bearer ${WORKSPACE_KEY}` };
  const writes: Array<[string, string, string | undefined]> = [
    ['POST', '/inference-profiles', JSON.stringify({ inferenceProfileName: 'mine', modelSource: { copyFrom: SYSTEM_PROFILES[0].inferenceProfileArn } })],
    ['DELETE', `/inference-profiles/${encodeURIComponent(APP_PROFILE.inferenceProfileArn)}`, undefined],
    ['PUT', '/foundation-models', '{}'],
  ];
  for (const [method, target, body] of writes) {
    const res = await call(`${gw.url}/v1/bedrock${target}`, { method, headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' }, body });
    t.equal(res.status, 405, `${method} ${target}: refused`);
    t.ok(res.headers['x-amzn-errortype'], "in Bedrock's error shape");
    t.match(res.json<{ message: string }>().message, /only reads/, 'the message says why');
    const line = await auditFor(gw, String(res.headers['x-request-id']));
    t.match(line, { workspace: WORKSPACE, status: 405, method, error: 'GW_ERR_METHOD_NOT_ALLOWED', tokens_in: 0 }, `${method}: audited`);
  }
  const anonymous = await call(`${gw.url}/v1/bedrock/inference-profiles?type=SYSTEM_DEFINED`, { headers: sdkHeaders() });
  t.equal(anonymous.status, 403, 'no key: refused by auth');
  t.equal(control.requests.length, 0, 'nothing reached the control plane');
  t.equal(mock.requests.length, 0, 'nor the Runtime');
});

t.test('the control plane defaults to bedrock.{region}.amazonaws.com and is listed', async (t) => {
  const { gw, control } = await startBedrock(t);
  const entry = (await call(`${gw.url}/v1/providers`)).json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'bedrock');
  t.equal(entry?.control_base_url, control.url, 'the configured control plane');
  const { parseEndpoint, configSchema } = await import('../../../providers/bedrock/config.js');
  const fallback = parseEndpoint(configSchema.properties.control_base_url.default, 'eu-west-1');
  t.equal(fallback.origin, 'https://bedrock.eu-west-1.amazonaws.com', 'the default, for the configured region');
});
