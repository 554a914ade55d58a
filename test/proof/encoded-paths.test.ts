/**
 * A generation path with percent-encoded unreserved characters (`/v1/%6Dessages`) is the
 * same URI as `/v1/messages` (RFC 3986 §6.2.2.2) and any server behind may read it so:
 * the providers classify and forward it normalised, so it is a generation the limits
 * count, not an auxiliary call that goes around them.
 */
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { ScriptedUpstream } from './support/upstream.js';
import { checkedSegments } from '../../providers/common/paths.js';
import { bedrockPath } from '../../providers/bedrock/paths.js';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { anthropicBody, startBedrock, WORKSPACE } from '../helpers/bedrock.js';

t.test('encoded unreserved characters are written plainly, nothing else is decoded', async (t) => {
  t.same(checkedSegments('/v1/%6Dessages'), ['v1', 'messages']);
  t.same(checkedSegments('/v1/chat/%63ompletions'), ['v1', 'chat', 'completions']);
  t.same(checkedSegments('/a%7Eb%2Dc%5F%41%5a%7a%30%39'), ['a~b-c_AZz09']);
  t.same(checkedSegments('/model/anthropic.claude-3%3A0/invoke'), ['model', 'anthropic.claude-3%3A0', 'invoke'], 'a reserved character stays encoded');
  t.same(checkedSegments('/x%40y%20z'), ['x%40y%20z']);
  t.throws(() => checkedSegments('/v1/%2E%2E/x'), /"\." or "\.\."/, 'dot segments refused before');
});

t.test('a percent-encoded generation path is limited and forwarded as the path it names', async (t) => {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(
    t,
    `providers:
  anthropic: { api_key: sk-ant-encoded-0000, base_url: "${upstream.url}" }
  openai: { api_key: sk-encoded-openai-0000, base_url: "${upstream.url}" }
filters:
  - name: auth
  - name: rate-limit
rate_limits:
  default: { requests_per_minute: 1 }
workspaces:
  ws-1: { user: alice }
  ws-2: { user: bob }
`,
  );
  const cases: Array<[string, string, string, string, unknown]> = [
    ['Anthropic', 'ws-1', '/v1/claude/v1/%6Dessages', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
    ['OpenAI', 'ws-2', '/v1/openai/v1/chat/%63ompletions', '/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }],
  ];
  for (const [name, workspace, path, upstreamPath, body] of cases) {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace }, body: JSON.stringify(body) });
      await res.text();
      statuses.push(res.status);
    }
    t.same(statuses, [200, 429, 429], `${name}: requests_per_minute: 1 holds for ${path}`);
    t.equal(upstream.seen.at(-1)?.url, upstreamPath, `${name}: forwarded as ${upstreamPath}`);
  }
});

t.test('Bedrock: the root and operation are read normalised, the model id as sent', async (t) => {
  const id = 'anthropic.claude-3-haiku-20240307-v1%3A0';
  t.same(bedrockPath(`/model/${id}/%69nvoke`, '', ''), { op: 'invoke', modelId: 'anthropic.claude-3-haiku-20240307-v1:0', upstream: `/model/${id}/invoke` });
  t.same(bedrockPath(`/%6Dodel/${id}/converse%2Dstream`, '', '/base'), { op: 'converse-stream', modelId: 'anthropic.claude-3-haiku-20240307-v1:0', upstream: `/base/model/${id}/converse-stream` });
  t.equal(bedrockPath('/%69nvoke', '', '').op, 'convenience', "the gateway's /invoke");
  t.equal(bedrockPath('/model/anthropic.claude%2D3/invoke', '', '').upstream, '/model/anthropic.claude%2D3/invoke', 'the model id segment is forwarded as sent');
  t.throws(() => bedrockPath('/model/x/%2569nvoke', '', ''), /double encoding/, 'double encoding refused, never decoded twice');
  t.throws(() => bedrockPath('/model/x/%2E%2E', '', ''), /"\." or "\.\."/, 'dot segments refused before');
});

t.test('Bedrock: a percent-encoded operation is limited, metered and forwarded (and signed) as the one it names', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: '  - name: rate-limit', extraYaml: 'rate_limits:\n  default:\n    requests_per_minute: 1' });
  const path = `/model/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}/%69nvoke`;
  const statuses: number[] = [];
  let first = '';
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${endpoint}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': WORKSPACE }, body: anthropicBody() });
    await res.text();
    if (i === 0) first = res.headers.get('x-request-id') ?? '';
    statuses.push(res.status);
  }
  t.same(statuses, [200, 429, 429], 'requests_per_minute: 1 holds');
  const rec = await outcomeFor(first);
  t.equal(rec.kind, 'generation', 'classified as a generation');
  t.ok(rec.outcome.usage.inputTokens > 0, 'usage metered');
  t.equal(mock.requests.length, 1, 'one request reached Bedrock');
  t.match(mock.last?.url, /\/invoke$/, 'forwarded as /invoke, and the mock verified its signature');
});
