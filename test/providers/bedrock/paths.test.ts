import t from 'tap';
import { bedrockPath, encodeModelId } from '../../../providers/bedrock/paths.js';

t.test('a model id becomes one path segment, as the AWS SDKs encode it', async (t) => {
  t.equal(encodeModelId('anthropic.claude-3-sonnet-20240229-v1:0'), 'anthropic.claude-3-sonnet-20240229-v1%3A0');
  t.equal(encodeModelId('arn:aws:bedrock:us-east-1:1:inference-profile/x'), 'arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx');
  t.equal(encodeModelId("a!b'(c)*"), 'a%21b%27%28c%29%2A');
});

t.test('an id no path can name is a 400 naming the field it came from, never a URIError', async (t) => {
  for (const id of ['', '.', '..', '\ud800', 'anthropic.claude\udfff', '\udc00\ud800']) {
    t.throws(() => encodeModelId(id), { code: 'GW_ERR_REQUEST_INVALID', param: 'model' }, JSON.stringify(id));
  }
  t.throws(() => encodeModelId('\ud800', 'model_id'), { code: 'GW_ERR_REQUEST_INVALID', param: 'model_id', message: /^model_id: / });
  t.equal(encodeModelId('\ud83d\ude00'), '%F0%9F%98%80', 'a surrogate pair is one character');
});

t.test("a client's query credentials never go upstream: key, and SigV4's query authentication", async (t) => {
  const path = '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke';
  const upstream = (query: string) => bedrockPath(path, query, '').upstream;
  t.equal(upstream('key=gwk_x&trace=1'), `${path}?trace=1`);
  t.equal(upstream('X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ws%2F20250101%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Signature=ab&x-amz-security-token=tok&X%2DAmz%2DDate=1'), path);
  t.equal(upstream('a=1&amz=2'), `${path}?a=1&amz=2`, 'other parameters byte for byte');
});

t.test('a guardrail or async invocation ARN is one segment, its %2F kept; elsewhere an encoded slash is refused', async (t) => {
  const guardrail = '/guardrail/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aguardrail%2Fgr0abc/version/1/apply';
  t.same(bedrockPath(guardrail, '', '/base'), { op: 'other', upstream: `/base${guardrail}` });
  const invocation = '/async-invoke/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aasync-invoke%2Fab12';
  t.same(bedrockPath(invocation, '', ''), { op: 'other', upstream: invocation });
  t.throws(() => bedrockPath('/guardrail/gr0abc/version/1%2F..%2Fx/apply', '', ''), { code: 'GW_ERR_REQUEST_INVALID' }, 'not in the version');
  t.throws(() => bedrockPath('/guardrail/arn%2F..%2Fmodel/version/1/apply', '', ''), { code: 'GW_ERR_REQUEST_INVALID' }, 'no dot segment inside the id');
});

t.test("the control plane's catalogue reads: a list or one id (an ARN as one segment), nothing deeper", async (t) => {
  t.same(bedrockPath('/inference-profiles', 'type=SYSTEM_DEFINED&X-Amz-Signature=abc', '/base'), { op: 'control', upstream: '/base/inference-profiles?type=SYSTEM_DEFINED' }, 'a credential in the query is dropped');
  const arn = '/inference-profiles/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2';
  t.same(bedrockPath(arn, '', ''), { op: 'control', upstream: arn }, 'the ARN segment as sent');
  t.same(bedrockPath('/%66oundation-models/amazon.nova-pro-v1%3A0', '', ''), { op: 'control', upstream: '/foundation-models/amazon.nova-pro-v1%3A0' });
  t.throws(() => bedrockPath('/inference-profiles/x/tags', '', ''), { code: 'GW_ERR_ROUTE_NOT_FOUND' }, 'nothing under one profile');
  t.throws(() => bedrockPath('/foundation-models/arn%2F..%2Fx', '', ''), { code: 'GW_ERR_REQUEST_INVALID' }, 'no dot segment inside the id');
  t.throws(() => bedrockPath('/inference-profiles/', '', ''), { code: 'GW_ERR_REQUEST_INVALID' }, 'no empty id');
});
