/**
 * The Files API through the gateway with the real SDK: a multipart upload, the file's
 * metadata and content download, and a message that refers to the file by id. Files are
 * not generations: their bodies are never parsed as JSON and no tokens are charged.
 */
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import t from 'tap';
import { CLIENT_KEY, GATEWAY_KEY, startAnthropic } from '../../helpers/anthropic.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';

const BETA = 'files-api-2025-04-14';

t.test('beta.files: upload, metadata, download and a message citing the file', async (t) => {
  const { mock, base } = await startAnthropic(t);
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });
  // Bytes that are no UTF-8 and no JSON: a PDF's head, a NUL, a lone 0xff.
  const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from([0, 0xff, 0xfe, 0x80]), Buffer.alloc(70_000, 0x41)]);
  const uploaded = await client.beta.files.upload({ file: await toFile(content, 'report.pdf', { type: 'application/pdf' }), betas: [BETA] }).withResponse();
  t.match(uploaded.data, { type: 'file', id: 'file_mock01', filename: 'report.pdf', mime_type: 'application/pdf', size_bytes: content.length });
  const up = mock.last!;
  t.equal(up.headers['x-api-key'], GATEWAY_KEY, "upload: the gateway's key");
  t.match(String(up.headers['content-type']), /^multipart\/form-data; boundary=/, 'upload: multipart as the SDK sent it');
  t.match(String(up.headers['anthropic-beta']), BETA, 'upload: the beta header passed');
  const upOutcome = await outcomeFor(uploaded.response.headers.get('x-request-id')!);
  t.equal(upOutcome.kind, 'auxiliary', 'an upload is no generation');
  t.equal(upOutcome.outcome.status, 200);

  const meta = await client.beta.files.retrieveMetadata('file_mock01', { betas: [BETA] });
  t.equal(meta.size_bytes, content.length, 'metadata');

  const download = await client.beta.files.download('file_mock01', { betas: [BETA] });
  t.equal(download.headers.get('content-type'), 'application/binary');
  t.same(Buffer.from(await download.arrayBuffer()), content, 'download: the bytes uploaded, byte for byte');

  const message = await client.beta.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 256, betas: [BETA],
    messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_mock01' } }, { type: 'text', text: 'Summarise.' }] }],
  }).withResponse();
  t.equal(message.data.content[0].type, 'text');
  const sent = JSON.parse(mock.last!.body.toString()) as { messages: Array<{ content: Array<{ source?: { file_id?: string } }> }> };
  t.equal(sent.messages[0].content[0].source?.file_id, 'file_mock01', 'the file id reached the provider');
  const genOutcome = await outcomeFor(message.response.headers.get('x-request-id')!);
  t.equal(genOutcome.kind, 'generation');
  t.equal(genOutcome.outcome.usage?.inputTokens, mock.usage.input_tokens, 'the message is charged');
});
