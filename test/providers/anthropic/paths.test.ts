import t from 'tap';
import { GatewayError } from '../../../core/index.js';
import { upstreamPath } from '../../../providers/anthropic/paths.js';
import { AnthropicPaths } from '../../../providers/anthropic/inspect.js';
import { CLIENT_KEY, messagesBody, raw, startAnthropic } from '../../helpers/anthropic.js';

t.test('maps client paths onto the API, under the base path', async (t) => {
  const cases: Array<[subpath: string, query: string, base: string, expected: string]> = [
    ['/v1/messages', '', '', '/v1/messages'], // SDKs, Claude Code
    ['/v1/messages', 'beta=true', '', '/v1/messages?beta=true'],
    ['/messages', '', '', '/v1/messages'], // Continue with apiBase = …/v1/claude
    ['/models', '', '', '/v1/models'],
    ['/complete', '', '', '/v1/complete'],
    ['/files/file_011/content', '', '', '/v1/files/file_011/content'],
    ['/v1/messages/count_tokens', 'beta=true', '', '/v1/messages/count_tokens?beta=true'],
    ['/api/event_logging/batch', '', '', '/api/event_logging/batch'], // Claude Code telemetry
    ['/v1/models/', '', '', '/v1/models/'],
    ['//v1//messages', '', '', '/v1/messages'],
    ['/v1/messages', 'a=%2e%2e/x', '', '/v1/messages?a=%2e%2e/x'], // the query is not a path
    ['/v1/messages', '', '/corp/anthropic', '/corp/anthropic/v1/messages'],
    ['/messages', 'x=1', '/corp', '/corp/v1/messages?x=1'],
  ];
  for (const [subpath, query, base, expected] of cases) t.equal(upstreamPath(subpath, query, base), expected, `${subpath}?${query} under "${base}"`);
});

const TRAVERSALS = [
  '/v1/../admin',
  '/v1/messages/..',
  '/v1/%2e%2e/admin',
  '/v1/%2E%2E/admin',
  '/v1/%2e./admin',
  '/v1/.%2E/admin',
  '/v1/%252e%252e/admin',
  '/v1/./messages',
  '/v1/%2e/messages',
  '/v1/..%2fadmin',
  '/v1/..%2Fadmin',
  '/v1/%2f..%2fadmin',
  '/v1/..%5cadmin',
  '/v1/..%5Cadmin',
  '/v1/a\\..\\admin',
  '/v1/%00/messages',
  '/v1/%zz/messages',
];

/** The status of the GatewayError `fn` throws, or 0 when it does not throw one. */
function refusal(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.status : -1;
  }
  return 0;
}

t.test('refuses every path that could leave the base path', async (t) => {
  for (const p of TRAVERSALS) t.equal(refusal(() => upstreamPath(p, '', '/base')), 400, p);
  t.equal(refusal(() => upstreamPath('/', '', '')), 404, 'empty path');
  t.equal(refusal(() => upstreamPath('/admin', '', '')), 404, 'unknown root');
});

t.test('the provider\'s path memo answers as upstreamPath does, refusals included, past its bound', async (t) => {
  const paths = new AnthropicPaths('/corp');
  let wrong = 0;
  let unrefused = 0;
  // Three rounds over more distinct paths than the memo keeps, traversals among them.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 400; i++) {
      const subpath = i % 5 === 0 ? TRAVERSALS[i % TRAVERSALS.length] : i % 2 ? `/v1/files/f${i}` : '/v1/messages';
      const query = i % 3 === 0 ? 'beta=true' : '';
      let expected: string | undefined;
      try {
        expected = upstreamPath(subpath, query, '/corp');
      } catch {
        expected = undefined;
      }
      try {
        const m = paths.map(subpath, query);
        if (expected === undefined) unrefused++;
        else if (m.path !== expected || m.generation !== (subpath === '/v1/messages')) wrong++;
      } catch (err) {
        if (expected !== undefined || !(err instanceof GatewayError)) wrong++;
      }
    }
  }
  t.equal(wrong, 0, 'the same path, the same generation flag, the same refusals');
  t.equal(unrefused, 0, 'a refused path is refused again');
});

t.test('through the gateway: SDK, Continue and api/ paths reach the mock as mapped', async (t) => {
  const { mock, gw } = await startAnthropic(t, { basePath: '/proxy' });
  const sent: Array<[method: string, path: string, upstream: string]> = [
    ['POST', '/v1/claude/v1/messages?beta=true', '/proxy/v1/messages?beta=true'],
    ['POST', '/v1/claude/messages', '/proxy/v1/messages'],
    ['GET', '/v1/claude/v1/models?limit=20', '/proxy/v1/models?limit=20'],
    ['POST', '/v1/claude/api/event_logging/batch', '/proxy/api/event_logging/batch'],
  ];
  for (const [method, path, upstream] of sent) {
    const before = mock.requests.length;
    await raw(gw.url, method, path, { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY }, method === 'POST' ? messagesBody() : undefined);
    t.equal(mock.requests.length, before + 1, `${path} forwarded once`);
    t.equal(mock.last?.url, upstream, `${path} → ${upstream}`);
  }
});

t.test('through the gateway: traversal attempts get a 400 in Anthropic shape and never reach the upstream', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  for (const p of TRAVERSALS) {
    const res = await raw(gw.url, 'POST', `/v1/claude${p}`, { 'content-type': 'application/json' }, messagesBody());
    t.equal(res.status, 400, `${p} refused`);
    const body = JSON.parse(res.body.toString()) as { type: string; error: { type: string } };
    t.same({ type: body.type, error: body.error.type }, { type: 'error', error: 'invalid_request_error' }, `${p}: Anthropic error shape`);
  }
  const unknown = await raw(gw.url, 'GET', '/v1/claude/admin/keys');
  t.equal(unknown.status, 404, 'unknown roots are not forwarded');
  t.equal(mock.requests.length, 0, 'nothing reached the mock');
});
