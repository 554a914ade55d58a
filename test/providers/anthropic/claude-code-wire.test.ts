/**
 * Request shapes the real Claude Code CLI (2.1.197) sends through the gateway, replayed
 * with fetch: each one failed or was misaccounted before its fix.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { CC_KEY, startClaudeCodeGateway } from '../../helpers/claude-code.js';
import { waitFor } from '../../filters/fixtures.js';

const BETAS = 'claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,thinking-token-count-2026-05-13,context-management-2025-06-27,prompt-caching-scope-2026-01-05,mid-conversation-system-2026-04-07,effort-2025-11-24';

/** The first turn's shape: the agent-type list rides as a mid-conversation `system` message. */
function firstTurn(): string {
  return JSON.stringify({
    model: 'claude-opus-4-8',
    messages: [
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>context</system-reminder>' }, { type: 'text', text: 'Say hi', cache_control: { type: 'ephemeral' } }] },
      { role: 'system', content: 'Available agent types for the Agent tool: …' },
    ],
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;' },
      { type: 'text', text: 'You are a Claude agent, built on Anthropic\'s Claude Agent SDK.', cache_control: { type: 'ephemeral' } },
    ],
    tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
    metadata: { user_id: JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: '4e6df472-9a53-4cf7-9665-ccda2b895636' }) },
    max_tokens: 64000,
    thinking: { type: 'adaptive' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
    stream: true,
  });
}

t.test('a mid-conversation system message (mid-conversation-system beta) passes the validator untouched', async (t) => {
  const { mock, base, audit } = await startClaudeCodeGateway(t);
  const body = firstTurn();
  const res = await fetch(`${base}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': CC_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': BETAS, 'x-app': 'cli' },
    body,
  });
  const text = await res.text();
  t.equal(res.status, 200, text.slice(0, 300));
  t.match(text, /event: message_stop/);
  t.equal(mock.last?.url, '/v1/messages?beta=true');
  t.equal(mock.last?.body.toString('utf8'), body, 'forwarded byte for byte');
  t.ok(await waitFor(() => audit().length >= 1));
  t.match(audit()[0], { status: 200, model: 'claude-opus-4-8', tokens_in: 1234, tokens_out: 56, cache_read_tokens: 2000, user: 'dev1' });
});

t.test('the validator still refuses a role the API has none of', async (t) => {
  const { mock, base } = await startClaudeCodeGateway(t);
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CC_KEY}`, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'tool', content: 'x' }] }),
  });
  t.equal(res.status, 400);
  t.match(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message: /messages\[0\]\.role/ } });
  t.equal(mock.requests.length, 0);
});

t.test("Claude Code's preconnect HEAD on the base URL: no identity needed, no audit line, nothing forwarded", async (t) => {
  const { mock, base, gw, audit } = await startClaudeCodeGateway(t);
  // Sent at start-up with no credentials (user-agent Bun), before the first Messages call.
  for (const url of [base, `${base}/`]) {
    const res = await fetch(url, { method: 'HEAD', headers: { 'user-agent': 'Bun/1.4.0', accept: '*/*' } });
    t.equal(res.status, 200, `HEAD ${url.slice(gw.url.length)}`);
    t.ok(res.headers.get('x-request-id'));
  }
  const get = await fetch(base, { headers: { accept: '*/*' } });
  t.equal(get.status, 401, 'only HEAD is a probe: a GET without identity is still refused');
  t.ok(await waitFor(() => audit().length >= 1));
  await sleep(100);
  t.same(audit().map((l) => [l.method, l.status]), [['GET', 401]], 'the probes left no line');
  t.equal(mock.requests.length, 0);
});

t.test("the session in 2.1.x's JSON metadata.user_id reaches the audit line when no header names it", async (t) => {
  const { base, audit } = await startClaudeCodeGateway(t);
  const post = (userId: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CC_KEY, 'anthropic-version': '2023-06-01', ...headers },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: userId } }),
    }).then((r) => r.text());
  const json = (session: unknown) => JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: session });
  await post(json('3b0f249b-7d96-49c4-960b-8d52004a79b0'));
  await post(json('3b0f249b-7d96-49c4-960b-8d52004a79b0'), { 'x-claude-code-session-id': 'header-session-0001' });
  await post(json('not a session id!'));
  await post('{"session_id": "3b0f249b-7d96-49c4-960b-8d52004a79b0"'); // cut short: no JSON
  t.ok(await waitFor(() => audit().length >= 4));
  t.same(audit().map((l) => l.session), ['3b0f249b-7d96-49c4-960b-8d52004a79b0', 'header-session-0001', null, null]);
});

t.test('an identity refusal is final: x-should-retry: false, which Claude Code obeys instead of retrying for minutes', async (t) => {
  const { base, audit } = await startClaudeCodeGateway(t);
  // 2.1.197 retried a plain 401 ten times with backoff (16 s, 33 s, …) before giving up;
  // with the header it stops at once: "Invalid API key · Fix external API key".
  const send = (headers: Record<string, string>) =>
    fetch(`${base}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) });
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ['a forged key', { 'x-api-key': `${CC_KEY.slice(0, -4)}AAAA` }, 401, 'authentication_error'],
    ['no key', {}, 401, 'authentication_error'],
    ['a key for another workspace than the header', { authorization: `Bearer ${CC_KEY}`, 'x-workspace-id': 'ws-other' }, 403, 'permission_error'],
  ];
  for (const [label, headers, status, type] of cases) {
    const res = await send(headers);
    t.equal(res.status, status, label);
    t.equal(res.headers.get('x-should-retry'), 'false', label);
    t.match(await res.json(), { type: 'error', error: { type } }, label);
  }
  t.ok(await waitFor(() => audit().length >= cases.length), 'each refusal still has its audit line');
});
