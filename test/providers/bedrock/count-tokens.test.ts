import t from 'tap';
import { BYTE_STRINGS, TEXT_STRINGS } from '../../../core/index.js';
import { invokeModelBody } from '../../../providers/bedrock/count-tokens.js';
import { anthropicErrorAnswer } from '../../../providers/bedrock/count-tokens-answer.js';
import { bedrockPath } from '../../../providers/bedrock/paths.js';

t.test('/anthropic/v1/messages/count_tokens is its own operation; its query kept but for credentials', async (t) => {
  t.same(bedrockPath('/anthropic/v1/messages/count_tokens', 'beta=true', '/proxy'), { op: 'messages-count', upstream: '/proxy/anthropic/v1/messages/count_tokens?beta=true' });
  t.same(bedrockPath('/anthropic/v1/messages/c%6Funt_tokens', 'X-Amz-Signature=abc', ''), { op: 'messages-count', upstream: '/anthropic/v1/messages/count_tokens' });
  for (const other of ['/anthropic/v1/messages/count_tokens/', '/anthropic/v1/messages/count-tokens', '/anthropic/v1/messages/../messages/count_tokens']) {
    t.throws(() => bedrockPath(other, '', ''), { code: 'GW_ERR_ROUTE_NOT_FOUND' }, other);
  }
});

t.test('the InvokeModel body: no model, the Runtime version and a max_tokens unless the client set them', async (t) => {
  const body = (request: Record<string, unknown>) => JSON.parse(invokeModelBody(request, TEXT_STRINGS).toString('utf8')) as Record<string, unknown>;
  const messages = [{ role: 'user', content: 'Hi' }];
  t.same(body({ model: 'm', system: 's', messages }), { anthropic_version: 'bedrock-2023-05-31', system: 's', messages, max_tokens: 1 });
  t.same(body({ model: 'm', anthropic_version: 'bedrock-2099-01-01', max_tokens: 500, messages }), { anthropic_version: 'bedrock-2099-01-01', max_tokens: 500, messages }, "the client's own kept");
  t.equal(invokeModelBody({ model: 'm', messages }, TEXT_STRINGS).toString(), '{"anthropic_version":"bedrock-2023-05-31","messages":[{"role":"user","content":"Hi"}],"max_tokens":1}', 'the version first');
});

t.test("the client's anthropic-beta header joins the body's anthropic_beta: split, in order, each once", async (t) => {
  const body = (request: Record<string, unknown>, header?: string | string[]) => JSON.parse(invokeModelBody(request, TEXT_STRINGS, header).toString('utf8')) as Record<string, unknown>;
  const messages = [{ role: 'user', content: 'Hi' }];
  t.same(body({ model: 'm', messages }, 'token-counting-2024-11-01').anthropic_beta, ['token-counting-2024-11-01'], 'the header alone');
  t.same(body({ model: 'm', messages }, ' a , b,,a ').anthropic_beta, ['a', 'b'], 'comma-separated, trimmed, deduplicated');
  t.same(body({ model: 'm', messages, anthropic_beta: ['b', 'c'] }, 'a,b').anthropic_beta, ['b', 'c', 'a'], "the body's first, then the header's new ones");
  t.same(body({ model: 'm', messages }, ['a', 'c,a']).anthropic_beta, ['a', 'c'], 'repeated header lines');
  t.same(body({ model: 'm', messages, anthropic_beta: ['x'] }).anthropic_beta, ['x'], "no header: the body's kept");
  t.notOk('anthropic_beta' in body({ model: 'm', messages }, ' , '), 'an empty header adds no member');
  t.equal(body({ model: 'm', messages, anthropic_beta: 'x' }, 'a').anthropic_beta, 'x', 'a body member that is not a list is left for the Runtime to refuse');
  const bytes = JSON.parse(invokeModelBody(BYTE_STRINGS.parse('{"model":"m","messages":[],"anthropic_beta":["a"]}') as Record<string, unknown>, BYTE_STRINGS, 'a,b').toString('utf8')) as Record<string, unknown>;
  t.same(bytes.anthropic_beta, ['a', 'b'], "a body read as bytes: the same union");
});

t.test("a Bedrock error in Anthropic's shape, its status kept", async (t) => {
  const cases: Array<[number, string]> = [
    [400, 'invalid_request_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [429, 'rate_limit_error'],
    [424, 'invalid_request_error'],
    [500, 'api_error'],
    [503, 'api_error'],
  ];
  for (const [status, type] of cases) {
    const out = anthropicErrorAnswer(status, Buffer.from('{"message":"why"}'), {});
    t.equal(out.status, status);
    t.same(JSON.parse(Buffer.from(out.body as Uint8Array).toString()), { type: 'error', error: { type, message: 'why' } }, `${status}`);
  }
  const bare = anthropicErrorAnswer(502, Buffer.from('<html>'), { 'retry-after': '7', 'x-amzn-errortype': 'X' });
  t.same(JSON.parse(Buffer.from(bare.body as Uint8Array).toString()), { type: 'error', error: { type: 'api_error', message: 'Upstream provider returned HTTP 502' } }, 'no message: one saying the status');
  t.same(bare.headers, { 'content-type': 'application/json', 'retry-after': '7' }, 'only retry-after passes');
});
