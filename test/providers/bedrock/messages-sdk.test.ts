/**
 * The Anthropic Messages API on Bedrock (`/v1/bedrock/anthropic/v1/messages`), driven by the
 * real `@anthropic-ai/sdk` as Claude Code and the Anthropic SDK use it with
 * `ANTHROPIC_BASE_URL=…/v1/bedrock/anthropic`: forwarded to the mock Runtime (or
 * bedrock-mantle), signed with the gateway's key, answered in Anthropic's shape, metered,
 * priced by the base model id, audited, with every error in Anthropic's dialect.
 */
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { BedrockMock, MOCK_USAGE } from '../../mocks/bedrock-mock.js';
import { GATEWAY_CREDS, WORKSPACE, WORKSPACE_KEY, startBedrock } from '../../helpers/bedrock.js';
import type { TestGateway } from '../../helpers/gateway.js';

/** A profile of a model priced by its base id (`anthropic.claude-opus-4-6*` in configs/pricing.yaml). */
const MODEL = 'global.anthropic.claude-opus-4-6-v1';

const FILTERS = `  - name: cost
  - name: rate-limit
  - name: validator
    config:
      providers:
        bedrock: { models: ["anthropic.claude-opus-4-6*"] }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }`;

const usage = (u: { input: number; output: number; cacheRead: number; cacheWrite: number }) => ({
  inputTokens: u.input,
  outputTokens: u.output,
  cacheCreationTokens: u.cacheWrite,
  cacheReadTokens: u.cacheRead,
});

function sdk(gw: TestGateway, options: { apiKey?: string | null; authToken?: string } = {}): Anthropic {
  return new Anthropic({ apiKey: options.apiKey === undefined ? WORKSPACE_KEY : options.apiKey, authToken: options.authToken ?? null, baseURL: `${gw.url}/v1/bedrock/anthropic`, maxRetries: 0 });
}

async function auditFor(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  const file = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(file).some((l) => l.request_id === requestId));
  return auditLines(file).find((l) => l.request_id === requestId)!;
}

const PARAMS = { model: MODEL, max_tokens: 300, messages: [{ role: 'user' as const, content: 'Hello' }] };

t.test('non-streamed: forwarded signed to /anthropic/v1/messages, versioned, metered, priced and audited', async (t) => {
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  const { data: message, response } = await sdk(gw).messages.create(PARAMS).withResponse();
  t.equal((message.content[0] as { text: string }).text, mock.text, 'the answer reaches the SDK');
  const up = mock.last!;
  t.equal(up.url, '/anthropic/v1/messages', 'the Messages API path upstream');
  t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, "signed for bedrock with the gateway's key (verified by the mock)");
  const sent = JSON.parse(up.body.toString('utf8')) as Record<string, unknown>;
  t.equal(sent.anthropic_version, 'bedrock-2023-05-31', 'the Runtime gets its version in the body');
  t.equal(sent.model, MODEL, 'the model stays in the body');
  t.ok(up.body.toString('utf8').endsWith(JSON.stringify(PARAMS).slice(1)), "the client's body follows byte for byte");
  t.notMatch(JSON.stringify(up.headers), new RegExp(`${WORKSPACE_KEY}|x-api-key`), "the client's key is not forwarded");

  t.ok(response.headers.get('anthropic-ratelimit-requests-limit'), "rate-limit headers in Anthropic's names");
  const id = response.headers.get('x-request-id')!;
  const rec = await outcomeFor(id);
  t.same(rec.outcome.usage, usage(MOCK_USAGE.messages), 'usage from the Anthropic answer, cache tokens included');
  t.equal(rec.kind, 'generation');
  t.equal(rec.model, MODEL);
  t.equal(rec.maxOutputTokens, 300);
  const line = await auditFor(gw, id);
  t.match(line, { event: 'ai_request', workspace: WORKSPACE, provider: 'bedrock', model: MODEL, tokens_in: MOCK_USAGE.messages.input, tokens_out: MOCK_USAGE.messages.output, status: 200, stream: false });
  t.ok(typeof line.cost_usd === 'number' && line.cost_usd > 0, `priced by the base id (${String(line.cost_usd)})`);
});

t.test('streamed: SSE passes through, usage read from the events', async (t) => {
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  const stream = sdk(gw).messages.stream(PARAMS);
  const final = await stream.finalMessage();
  t.equal((final.content[0] as { text: string }).text, mock.text, 'deltas assembled by the SDK');
  t.equal(final.usage.output_tokens, MOCK_USAGE.messagesStream.output);
  const id = (await stream.withResponse()).response.headers.get('x-request-id')!;
  const rec = await outcomeFor(id);
  t.same(rec.outcome.usage, usage(MOCK_USAGE.messagesStream), 'usage from message_start and message_delta');
  t.equal(rec.outcome.stream, true);
  const line = await auditFor(gw, id);
  t.match(line, { model: MODEL, tokens_in: MOCK_USAGE.messagesStream.input, tokens_out: MOCK_USAGE.messagesStream.output, stream: true, status: 200 });
});

t.test("errors are Anthropic's: the upstream's passed on, the gateway's rendered so", async (t) => {
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  const client = sdk(gw);

  mock.nextError = { status: 429, type: 'rate_limit_error', message: 'Too many tokens, please wait before trying again.' };
  const limited = await client.messages.create(PARAMS).catch((e: unknown) => e);
  t.type(limited, Anthropic.RateLimitError, "the upstream's 429 raises the SDK's RateLimitError");
  t.match((limited as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'rate_limit_error' } });

  const denied = await client.messages.create({ ...PARAMS, model: 'anthropic.claude-3-haiku-20240307-v1:0' }).catch((e: unknown) => e);
  t.type(denied, Anthropic.APIError, 'a model outside the allowlist is refused');
  t.match((denied as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: /_error$/ } }, 'in Anthropic shape');

  const badKey = await sdk(gw, { apiKey: 'not-a-workspace-key' }).messages.create(PARAMS).catch((e: unknown) => e);
  t.type(badKey, Anthropic.AuthenticationError, "auth's refusal, before the body is read, is Anthropic's 401");
  t.match((badKey as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'authentication_error' } });

  const noModel = await fetch(`${gw.url}/v1/bedrock/anthropic/v1/messages`, { method: 'POST', headers: { 'x-api-key': WORKSPACE_KEY, 'content-type': 'application/json' }, body: '{"max_tokens":5,"messages":[]}' });
  t.equal(noModel.status, 400);
  t.match(await noModel.json(), { type: 'error', error: { type: 'invalid_request_error', message: /model/ } }, 'no model: a 400 naming it');

  const get = await fetch(`${gw.url}/v1/bedrock/anthropic/v1/messages`, { headers: { 'x-api-key': WORKSPACE_KEY } });
  t.equal(get.status, 405);
  t.match(await get.json(), { type: 'error', error: { type: 'invalid_request_error' } });
  t.equal(mock.requests.length, 1, 'only the rate-limited call went upstream');
});

t.test('bedrock-mantle: signed for bedrock-mantle, the version as a header, a Bearer key never forwarded', async (t) => {
  const mantle = await BedrockMock.start([GATEWAY_CREDS], { service: 'bedrock-mantle' });
  t.teardown(() => mantle.close());
  const { mock, gw } = await startBedrock(t, { requireKeys: true, providerYaml: `    messages_endpoint: mantle\n    mantle_base_url: ${mantle.url}` });
  // The Bedrock Mantle client's API-key mode: `Authorization: Bearer`, with the workspace key.
  const client = sdk(gw, { apiKey: null, authToken: WORKSPACE_KEY });
  const message = await client.messages.create(PARAMS);
  t.equal((message.content[0] as { text: string }).text, mantle.text);
  t.equal(mock.requests.length, 0, 'nothing to the Runtime');
  const up = mantle.last!;
  t.equal(up.url, '/anthropic/v1/messages');
  t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, 'signed for bedrock-mantle (verified by the mock)');
  t.match(up.headers['anthropic-version'], /^\d{4}-\d{2}-\d{2}$/, "the SDK's version header goes on");
  t.notOk('anthropic_version' in (JSON.parse(up.body.toString('utf8')) as object), 'the body is left as sent');
  t.notMatch(JSON.stringify(up.headers), new RegExp(WORKSPACE_KEY), "the client's Bearer key is not forwarded");

  const stream = await client.messages.create({ ...PARAMS, stream: true }).withResponse();
  let text = '';
  for await (const e of stream.data) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
  t.equal(text, mantle.text);
  const rec = await outcomeFor(stream.response.headers.get('x-request-id')!);
  t.same(rec.outcome.usage, usage(MOCK_USAGE.messagesStream));

  const bare = await fetch(`${gw.url}/v1/bedrock/anthropic/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${WORKSPACE_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(PARAMS) });
  t.equal(bare.status, 200);
  t.equal(mantle.last?.headers['anthropic-version'], '2023-06-01', 'a client without a version gets the one bedrock-mantle documents');
});
