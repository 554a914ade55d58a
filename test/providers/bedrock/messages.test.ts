import t from 'tap';
import { messagesDialect, withRuntimeVersion } from '../../../providers/bedrock/messages.js';
import { bedrockPath } from '../../../providers/bedrock/paths.js';

t.test('the Runtime version is spliced in after the brace; the rest of the body is untouched', async (t) => {
  const v = '"anthropic_version":"bedrock-2023-05-31"';
  const cases: Array<[string, string]> = [
    ['{"model":"m","max_tokens":5}', `{${v},"model":"m","max_tokens":5}`],
    ['  \n{ "model": "m" }', `  \n{${v}, "model": "m" }`],
    ['{}', `{${v}}`],
    ['{ \t}', `{${v} \t}`],
  ];
  for (const [body, expected] of cases) {
    const out = withRuntimeVersion(Buffer.from(body)).toString();
    t.equal(out, expected, JSON.stringify(body));
    t.same(JSON.parse(out), { anthropic_version: 'bedrock-2023-05-31', ...(JSON.parse(body) as object) }, `${JSON.stringify(body)} stays JSON`);
  }
  const array = Buffer.from('[1]');
  t.equal(withRuntimeVersion(array), array, 'not an object: sent as it is, for the upstream to refuse');
});

t.test('/anthropic/v1/messages is the Messages operation; its query kept but for credentials', async (t) => {
  t.same(bedrockPath('/anthropic/v1/messages', 'beta=true', '/proxy'), { op: 'messages', upstream: '/proxy/anthropic/v1/messages?beta=true' });
  t.same(bedrockPath('/%61nthropic/v1/m%65ssages', '', ''), { op: 'messages', upstream: '/anthropic/v1/messages' }, 'encoded unreserved characters are the same path');
  t.equal(bedrockPath('/anthropic/v1/messages', 'X-Amz-Signature=abc&key=k&beta=true', '').upstream, '/anthropic/v1/messages?beta=true');
  for (const other of ['/anthropic/v1/messages/', '/anthropic/v1/complete', '/anthropic/v1/messages/batches', '/anthropic/v1/../v1/messages']) {
    t.throws(() => bedrockPath(other, '', ''), { code: 'GW_ERR_ROUTE_NOT_FOUND' }, other);
  }
});

t.test("errors are Anthropic's under /anthropic/ only", async (t) => {
  t.equal(messagesDialect('/anthropic/v1/messages')?.name, 'anthropic');
  t.equal(messagesDialect('/anthropic/v1/anything')?.name, 'anthropic');
  t.equal(messagesDialect('/model/x/invoke'), undefined);
  t.equal(messagesDialect('/anthropicx'), undefined);
});
