import { InvokeModelWithResponseStreamCommand, ConverseStreamCommand, ModelStreamErrorException, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { raw } from '../../helpers/anthropic.js';
import { call } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicBody, PROFILE_ARN, SONNET, WORKSPACE, sdkClient, startBedrock } from '../../helpers/bedrock.js';
import { EventStreamMeter } from '../../../providers/bedrock/usage.js';

const headers = { 'x-workspace-id': WORKSPACE };

t.test('event streams pass through byte for byte, for InvokeModel and ConverseStream', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  for (const [op, expected] of [
    ['invoke-with-response-stream', mock.invokeFrames(PROFILE_ARN)],
    ['converse-stream', mock.converseFrames()],
  ] as const) {
    const body = op === 'converse-stream' ? JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }) : anthropicBody();
    const res = await fetch(`${endpoint}/model/${encodeURIComponent(PROFILE_ARN)}/${op}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    t.equal(res.status, 200, `${op}: 200`);
    t.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream', `${op}: content type kept`);
    const bytes = Buffer.from(await res.arrayBuffer());
    t.ok(bytes.equals(Buffer.concat(expected)), `${op}: identical bytes`);
    const { outcome } = await outcomeFor(res.headers.get('x-request-id') ?? '');
    t.equal(outcome.bytesOut, bytes.length, `${op}: bytes counted`);
    t.notOk(outcome.error, `${op}: no error`);
  }
});

t.test('an exception frame inside a 200 stream reaches the SDK as its class and is recorded as a stream error', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h2');
  let id = '';
  client.middlewareStack.add((next) => async (args) => {
    const out = await next(args);
    id = (out.response as { headers: Record<string, string> }).headers['x-request-id'] ?? '';
    return out;
  }, { step: 'deserialize' });

  mock.streamException = { type: 'modelStreamErrorException', message: 'The model stopped unexpectedly' };
  const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: SONNET, body: anthropicBody() }));
  let seen = 0;
  const err = await (async () => {
    for await (const part of stream.body!) if (part.chunk) seen++;
  })().catch((e: unknown) => e);
  t.ok(err instanceof ModelStreamErrorException, 'the SDK raises ModelStreamErrorException');
  t.equal(seen, 2, 'after the chunks before it');
  let rec = await outcomeFor(id);
  t.equal(rec.outcome.status, 200);
  t.equal(rec.outcome.error?.kind, 'stream_error', 'recorded as a stream error');
  t.match(rec.outcome.error?.message, /modelStreamErrorException: The model stopped unexpectedly/);

  mock.streamException = { type: 'throttlingException', message: 'Too many tokens' };
  const cstream = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }));
  const cerr = await (async () => {
    for await (const _ of cstream.stream!) void _;
  })().catch((e: unknown) => e);
  t.ok(cerr instanceof ThrottlingException, 'ConverseStream: ThrottlingException');
  rec = await outcomeFor(id);
  t.match(rec.outcome.error, { kind: 'stream_error', message: /throttlingException/ });
});

t.test('the stream meter reads the same usage however the bytes are split', async (t) => {
  const { mock } = await startBedrock(t);
  const whole = Buffer.concat(mock.invokeFrames(SONNET));
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 50; round++) {
    const meter = new EventStreamMeter();
    for (let off = 0; off < whole.length; ) {
      const n = 1 + Math.floor(random() * 40);
      meter.write(whole.subarray(off, off + n));
      off += n;
    }
    meter.end();
    if (meter.usage.inputTokens !== 41 || meter.usage.cacheCreationTokens !== 44 || meter.streamError) {
      t.fail(`round ${round}: ${JSON.stringify(meter.usage)} ${meter.streamError}`);
      return;
    }
  }
  t.pass('50 random splits, identical usage, no error');
  const cut = new EventStreamMeter();
  cut.write(whole.subarray(0, whole.length - 3));
  cut.end();
  t.match(cut.streamError, /middle of a frame/, 'a stream cut mid-frame is an error');
  const garbage = new EventStreamMeter();
  garbage.write(Buffer.from('not an event stream at all'));
  garbage.end();
  t.match(garbage.streamError, /malformed/, 'garbage is an error, not a crash');
});

t.test('paths: traversal and encoded separators outside the model id are refused in Bedrock shape', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  for (const p of [
    '/model/..%2F..%2Fadmin/invoke',
    '/model/%2e%2e/invoke',
    '/model/a%2F..%2Fb/invoke',
    '/model/x/..%2Fconverse',
    '/model/%252e%252e/invoke',
    '/model//invoke',
    '/model/x%00/invoke',
    '/model/x%zz/invoke',
    '/model/x%5Cy/invoke',
  ]) {
    // Sent verbatim: fetch would normalise `%2e%2e` away before the gateway saw it.
    const res = await raw(endpoint, 'POST', `/v1/bedrock${p}`, { ...headers, 'content-type': 'application/json' }, anthropicBody());
    t.equal(res.status, 400, `${p}: 400`);
    t.equal(res.headers['x-amzn-errortype'], 'ValidationException', `${p}: ValidationException`);
    t.match(JSON.parse(res.body.toString()).message, /path/, `${p}: about the path`);
  }
  const unknown = await call(`${endpoint}/admin/keys`, { headers });
  t.equal(unknown.status, 404);
  t.equal(unknown.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  t.equal(mock.requests.length, 0, 'nothing reached Bedrock');
  const plain = await call(`${endpoint}/model/anthropic.claude-3-haiku-20240307-v1:0/invoke`, { headers, body: anthropicBody() });
  t.equal(plain.status, 200, 'an unencoded ":" is forwarded (and signed) as sent');
  t.equal(mock.last?.url, '/model/anthropic.claude-3-haiku-20240307-v1:0/invoke');
});
