import t from 'tap';
import { CLIENT_KEY, GATEWAY_KEY, messagesBody, raw, startAnthropic } from '../../helpers/anthropic.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';

// A 1×1 PNG: vision requests carry base64 images the gateway must not touch.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

t.test('request bodies reach the upstream byte for byte', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  const bodies: Record<string, Buffer> = {
    // Odd spacing, key order, unicode escapes and a trailing newline: any re-serialisation would show.
    tools: Buffer.from(
      '{ "model":"claude-sonnet-4-5",  "max_tokens": 1024,\n "tools":[{"name":"get_weather","description":"Weather \\u00e0 la carte","input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}],' +
        '"messages":[{"role":"user","content":"What is the weather in Paris? 🌧"}], "future_field": {"x": 1.0e3} }\n',
    ),
    vision: Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: 'Describe this image.' }] }] })),
    large: Buffer.from(messagesBody({ system: 'x'.repeat(200_000) })),
  };
  for (const [name, body] of Object.entries(bodies)) {
    const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' }, body);
    t.equal(res.status, 200, `${name}: answered`);
    t.ok(mock.last?.body.equals(body), `${name}: identical bytes upstream`);
    t.equal(mock.last?.headers['content-length'], String(body.length), `${name}: content-length recomputed`);
  }
  const tool = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json' }, bodies.tools);
  const answer = JSON.parse(tool.body.toString()) as { content: Array<{ type: string; input?: unknown }> };
  t.same(answer.content[1], { type: 'tool_use', id: 'toolu_mock01', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } }, 'tool_use answer passes back');
});

t.test('a body outside ASCII: read for its shape, the model named in real characters, the bytes forwarded as sent', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  const body = Buffer.from(messagesBody({ model: 'claude-modèle-✓', max_tokens: 77, messages: [{ role: 'user', content: 'Résumé → ✓ 😀 '.repeat(2000) }] }));
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json' }, body);
  t.equal(res.status, 200);
  t.ok(mock.last?.body.equals(body), 'identical bytes upstream');
  const recorded = await outcomeFor(String(res.headers['x-request-id']));
  t.equal(recorded.model, 'claude-modèle-✓', 'the model as sent, not its UTF-8 bytes');
  t.equal(recorded.maxOutputTokens, 77);
});

t.test('client credentials never reach the upstream; the gateway key always does', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  const variants: Array<[string, Record<string, string>]> = [
    ['x-api-key (Claude Code, 0.x SDK)', { 'x-api-key': CLIENT_KEY }],
    ['Authorization: Bearer (1.x SDK, ANTHROPIC_AUTH_TOKEN)', { authorization: `Bearer ${CLIENT_KEY}` }],
    ['both, mixed case', { 'X-Api-Key': CLIENT_KEY, Authorization: `Bearer ${CLIENT_KEY}` }],
    ['other providers\' credentials and cookies', { 'x-goog-api-key': CLIENT_KEY, 'x-amz-security-token': CLIENT_KEY, 'x-amz-date': '20260101T000000Z', cookie: `session=${CLIENT_KEY}`, 'proxy-authorization': `Basic ${CLIENT_KEY}` }],
    ['none', {}],
  ];
  for (const [name, headers] of variants) {
    const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json', ...headers }, messagesBody());
    t.equal(res.status, 200, `${name}: answered`);
    const up = mock.last!.headers;
    t.equal(up['x-api-key'], GATEWAY_KEY, `${name}: gateway key upstream`);
    t.notOk(up.authorization, `${name}: no authorization upstream`);
    t.notOk(Object.keys(up).some((h) => h.startsWith('x-amz-') || h === 'x-goog-api-key' || h === 'cookie' || h === 'proxy-authorization'), `${name}: no other credentials upstream`);
    t.notOk(JSON.stringify(up).includes(CLIENT_KEY), `${name}: the client key appears nowhere upstream`);
    t.notOk(JSON.stringify(res.headers).includes(GATEWAY_KEY), `${name}: the gateway key never reaches the client`);
  }
});

t.test('anthropic-version is kept when sent and injected when not; betas and other headers pass', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json', 'anthropic-version': '2025-04-14', 'anthropic-beta': 'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19', 'user-agent': 'claude-cli/2.0.0', 'x-stainless-lang': 'js' }, messagesBody());
  let up = mock.last!.headers;
  t.equal(up['anthropic-version'], '2025-04-14', 'client version kept');
  t.equal(up['anthropic-beta'], 'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19', 'betas kept');
  t.equal(up['user-agent'], 'claude-cli/2.0.0', 'user-agent kept');
  t.equal(up['x-stainless-lang'], 'js', 'SDK headers kept');

  // The seed's curl example sends no version; the real API would refuse it.
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json' }, messagesBody());
  t.equal(res.status, 200, 'accepted upstream');
  up = mock.last!.headers;
  t.equal(up['anthropic-version'], '2023-06-01', 'default version injected');
});

t.test('X-Workspace-ID stays at the gateway unless configured; hop-by-hop headers never cross', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', {
    'content-type': 'application/json',
    'x-workspace-id': 'ws-abc123',
    'x-gateway-cache': 'on',
    connection: 'keep-alive, x-hop',
    'x-hop': 'secret-hop',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    'accept-encoding': 'gzip, br',
    expect: '100-continue',
  }, messagesBody());
  t.equal(res.status, 200);
  const up = mock.last!.headers;
  t.notOk(up['x-workspace-id'], 'identity header not forwarded');
  t.notOk(up['x-gateway-cache'], 'headers addressed to the gateway are not forwarded');
  t.notOk(up['x-hop'], 'header named in connection not forwarded');
  t.notOk(up['keep-alive'], 'keep-alive not forwarded');
  t.notOk(up.te, 'te not forwarded');
  t.notOk(up.expect, 'expect not forwarded');
  t.equal(up['accept-encoding'], 'identity', 'upstream asked for identity encoding');
  t.equal(up.host, new URL(mock.url).host, 'host is the upstream\'s');
  t.equal(res.headers['request-id'], 'req_mock01', 'upstream response headers pass back');
  t.ok(res.headers['x-request-id'], 'gateway request id on the response');

  const { mock: mock2, gw: gw2 } = await startAnthropic(t, { providerYaml: '    forward_headers: [X-Workspace-ID]' });
  await raw(gw2.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123' }, messagesBody());
  t.equal(mock2.last!.headers['x-workspace-id'], 'ws-abc123', 'forwarded when configured');
});

t.test('forward_headers cannot opt a credential in', async (t) => {
  await t.rejects(startAnthropic(t, { providerYaml: '    forward_headers: [Authorization]' }), /credential header/);
});

t.test('invalid JSON on messages is a 400 in Anthropic shape and is not forwarded', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  for (const body of ['{"model": "claude', '']) {
    const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json' }, body);
    t.equal(res.status, 400, `${JSON.stringify(body)}: 400`);
    const parsed = JSON.parse(res.body.toString()) as { type: string; error: { type: string } };
    t.equal(parsed.type, 'error');
    t.equal(parsed.error.type, 'invalid_request_error');
  }
  // Non-generation calls are not parsed: their bodies are the upstream's business.
  await raw(gw.url, 'POST', '/v1/claude/api/event_logging/batch', { 'content-type': 'application/json' }, 'not json');
  t.equal(mock.requests.length, 1, 'only the auxiliary call reached the mock');
  t.equal(mock.last?.body.toString(), 'not json');
});

t.test('a key with a trailing newline (from a secret file) is sent trimmed', async (t) => {
  const { mock, gw } = await startAnthropic(t, { apiKey: `${GATEWAY_KEY}\\n` });
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json' }, messagesBody());
  t.equal(res.status, 200);
  t.equal(mock.last?.headers['x-api-key'], GATEWAY_KEY);
});
