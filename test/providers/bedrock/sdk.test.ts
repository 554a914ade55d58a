import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClient,
} from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { MOCK_USAGE } from '../../mocks/bedrock-mock.js';
import { anthropicBody, GATEWAY_CREDS, PROFILE_ARN, SONNET, WORKSPACE, WORKSPACE_KEY, sdkClient, startBedrock, type Transport } from '../../helpers/bedrock.js';

const usage = (u: { input: number; output: number; cacheRead?: number; cacheWrite?: number }) => ({
  inputTokens: u.input,
  outputTokens: u.output,
  cacheCreationTokens: u.cacheWrite ?? 0,
  cacheReadTokens: u.cacheRead ?? 0,
});

/** The gateway's request id of the last call, read by a middleware on the client. */
function trackRequestIds(client: BedrockRuntimeClient): () => string {
  let last = '';
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const headers = (out.response as { headers?: Record<string, string> }).headers ?? {};
      last = headers['x-request-id'] ?? '';
      return out;
    },
    { step: 'deserialize', name: 'gatewayRequestId' },
  );
  return () => last;
}

for (const transport of ['h2', 'h1'] as Transport[]) {
  t.test(`the real SDK over ${transport}: all four commands, ids with ":" and ARNs with "/"`, async (t) => {
    const { mock, endpoint } = await startBedrock(t);
    const client = sdkClient(t, endpoint, transport);
    const requestId = trackRequestIds(client);
    const words = mock.text;

    for (const modelId of [SONNET, PROFILE_ARN]) {
      const before = mock.requests.length;
      const res = await client.send(new InvokeModelCommand({ modelId, contentType: 'application/json', accept: 'application/json', body: anthropicBody({ max_tokens: 321 }) }));
      const body = JSON.parse(Buffer.from(res.body).toString('utf8')) as { content: Array<{ text: string }>; echo_max_tokens: number };
      t.equal(body.content[0].text, words, `${modelId}: InvokeModel answer`);
      t.equal(body.echo_max_tokens, 321, `${modelId}: the body reached the model byte for byte`);
      t.equal(mock.requests.length, before + 1, `${modelId}: one upstream request`);
      const up = mock.last!;
      t.equal(up.modelId, modelId, `${modelId}: the mock decoded the same model id`);
      t.equal(up.url, `/model/${encodeURIComponent(modelId)}/invoke`, `${modelId}: path forwarded still encoded`);
      t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, `${modelId}: signed with the gateway's key (verified by the mock)`);
      t.notMatch(JSON.stringify(up.headers), new RegExp(`${WORKSPACE}|${WORKSPACE_KEY}`), `${modelId}: nothing of the client's credentials upstream`);
      const rec = await outcomeFor(requestId());
      t.same(rec.outcome.usage, usage(MOCK_USAGE.invoke), `${modelId}: usage from the token-count headers`);
      t.equal(rec.model, modelId, `${modelId}: model from the path`);
      t.equal(rec.maxOutputTokens, 321, `${modelId}: output cap from max_tokens`);
      t.equal(rec.kind, 'generation');
      t.equal(rec.outcome.provider, 'bedrock');
    }

    const converse = await client.send(new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 77 } }));
    t.equal(converse.output?.message?.content?.[0]?.text, words, 'Converse answer');
    t.equal(converse.usage?.cacheReadInputTokens, MOCK_USAGE.converse.cacheRead, 'Converse usage reaches the client');
    let rec = await outcomeFor(requestId());
    t.same(rec.outcome.usage, usage(MOCK_USAGE.converse), 'Converse usage recorded, cache tokens included');
    t.equal(rec.maxOutputTokens, 77, 'output cap from inferenceConfig.maxTokens');
    t.equal(mock.last?.url, `/model/${encodeURIComponent(SONNET)}/converse`);

    const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: PROFILE_ARN, contentType: 'application/json', body: anthropicBody() }));
    const events: Array<{ type: string; delta?: { text?: string } }> = [];
    for await (const part of stream.body!) if (part.chunk?.bytes) events.push(JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')));
    t.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta?.text).join(''), words, 'InvokeModel stream: deltas in order');
    t.equal(events.at(-1)?.type, 'message_stop', 'InvokeModel stream: complete');
    rec = await outcomeFor(requestId());
    t.same(rec.outcome.usage, usage(MOCK_USAGE.invokeStream), 'InvokeModel stream usage from amazon-bedrock-invocationMetrics');
    t.equal(rec.outcome.stream, true);
    t.equal(mock.last?.modelId, PROFILE_ARN);

    const cstream = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }));
    let text = '';
    let metadata: unknown;
    for await (const e of cstream.stream!) {
      if (e.contentBlockDelta?.delta?.text) text += e.contentBlockDelta.delta.text;
      if (e.metadata) metadata = e.metadata.usage;
    }
    t.equal(text, words, 'ConverseStream: deltas in order');
    t.match(metadata, { inputTokens: MOCK_USAGE.converseStream.input }, 'ConverseStream: metadata reaches the client');
    rec = await outcomeFor(requestId());
    t.same(rec.outcome.usage, usage(MOCK_USAGE.converseStream), 'ConverseStream usage from the metadata event');
    t.equal(rec.identity?.workspace, WORKSPACE, 'the workspace SigV4 identity was accepted');
    t.equal(rec.identity?.source, 'sigv4');
  });
}

t.test('Titan bodies: usage and output cap in their own fields', async (t) => {
  const { endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h1');
  const requestId = trackRequestIds(client);
  const body = JSON.stringify({ inputText: 'Hello', textGenerationConfig: { maxTokenCount: 99, temperature: 0 } });
  const res = await client.send(new InvokeModelCommand({ modelId: 'amazon.titan-text-express-v1', body }));
  t.match(JSON.parse(Buffer.from(res.body).toString()), { results: [{ completionReason: 'FINISH' }] });
  const rec = await outcomeFor(requestId());
  t.equal(rec.maxOutputTokens, 99, 'textGenerationConfig.maxTokenCount');
  t.same(rec.outcome.usage, usage(MOCK_USAGE.invoke));
  const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'amazon.titan-text-lite-v1', body }));
  for await (const _ of stream.body!) void _;
  t.same((await outcomeFor(requestId())).outcome.usage, usage(MOCK_USAGE.invokeStream), 'Titan stream: invocation metrics');
});
