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
