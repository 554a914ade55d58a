/**
 * An agent-sized prompt through the real SDK: bodies from 16 KiB on go upstream as a
 * one-shot iterable with an explicit content-length (so undici need not keep them for the
 * stream's life); the mock still verifies the gateway's SigV4 signature over the bytes.
 */
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { anthropicBody, GATEWAY_CREDS, SONNET, sdkClient, startBedrock } from '../../helpers/bedrock.js';

t.test('a 100 KB prompt reaches Bedrock byte for byte, signed, streamed and not', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h1');
  const body = anthropicBody({ messages: [{ role: 'user', content: `long prompt ${'x'.repeat(100_000)}` }] });

  const res = await client.send(new InvokeModelCommand({ modelId: SONNET, contentType: 'application/json', accept: 'application/json', body }));
  t.match(JSON.parse(Buffer.from(res.body).toString('utf8')), { content: [{ text: mock.text }] }, 'InvokeModel answered');
  t.equal(mock.last!.body.toString('utf8'), body, 'InvokeModel: the bytes as sent');
  t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'InvokeModel: signed with the gateway key (verified by the mock)');
  t.equal(mock.last!.headers['content-length'], String(Buffer.byteLength(body)), 'InvokeModel: with its length, not chunked');

  const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: SONNET, contentType: 'application/json', body }));
  const types: string[] = [];
  for await (const part of stream.body!) if (part.chunk?.bytes) types.push((JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')) as { type: string }).type);
  t.equal(types.at(-1), 'message_stop', 'the stream arrived whole');
  t.equal(mock.last!.body.toString('utf8'), body, 'stream: the bytes as sent');
  t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'stream: signed with the gateway key');
});
