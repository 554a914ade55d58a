/**
 * The Runtime's non-generating operations through the gateway with the real AWS SDK:
 * CountTokens, ApplyGuardrail and GetAsyncInvoke. Each is re-signed with the gateway's
 * credentials and charges no tokens. ApplyGuardrail's guardrail and GetAsyncInvoke's
 * invocation may be named by ARN, which the SDK sends as one segment with `%2F` for its
 * `/`, as it does a profile ARN in a model path.
 */
import t from 'tap';
import { ApplyGuardrailCommand, CountTokensCommand, GetAsyncInvokeCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { GATEWAY_CREDS, SONNET, anthropicBody, sdkClient, startBedrock, type Transport } from '../../helpers/bedrock.js';
import { MOCK_COUNTED_TOKENS } from '../../mocks/bedrock-mock.js';
import { textTokens } from '../../mocks/bedrock-count-tokens.js';

/** The gateway's request id of the last call, read by a middleware on the client. */
function trackRequestIds(client: BedrockRuntimeClient): () => string {
  let last = '';
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      last = ((out.response as { headers?: Record<string, string> }).headers ?? {})['x-request-id'] ?? '';
      return out;
    },
    { step: 'deserialize', name: 'gatewayRequestId' },
  );
  return () => last;
}

const GUARDRAIL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:guardrail/gr0abc123';
const INVOCATION_ARN = 'arn:aws:bedrock:us-east-1:123456789012:async-invoke/ab12cd34ef56';

for (const transport of ['h2', 'h1'] as Transport[]) {
  t.test(`${transport}: CountTokens, ApplyGuardrail and GetAsyncInvoke, re-signed, no tokens charged`, async (t) => {
    const { mock, endpoint } = await startBedrock(t);
    const client = sdkClient(t, endpoint, transport);
    const requestId = trackRequestIds(client);
    const signedByGateway = () => mock.requests.at(-1)!.accessKeyId === GATEWAY_CREDS.accessKeyId;

    const converse = await client.send(new CountTokensCommand({ modelId: SONNET, input: { converse: { messages: [{ role: 'user', content: [{ text: 'Hello' }] }] } } }));
    t.equal(converse.inputTokens, MOCK_COUNTED_TOKENS, 'CountTokens (converse): the count');
    t.ok(signedByGateway(), "CountTokens: signed with the gateway's credentials");
    let rec = await outcomeFor(requestId());
    t.equal(rec.kind, 'auxiliary', 'CountTokens is no generation');
    t.same([rec.outcome.usage?.inputTokens ?? 0, rec.outcome.usage?.outputTokens ?? 0], [0, 0], 'CountTokens: the count is not charged as input');

    const invoke = await client.send(new CountTokensCommand({ modelId: SONNET, input: { invokeModel: { body: new TextEncoder().encode(anthropicBody()) } } }));
    t.equal(invoke.inputTokens, textTokens(JSON.parse(anthropicBody()) as Record<string, unknown>), 'CountTokens (invokeModel): the count of the body sent');

    for (const id of ['gr0abc123', GUARDRAIL_ARN]) {
      const g = await client.send(new ApplyGuardrailCommand({ guardrailIdentifier: id, guardrailVersion: 'DRAFT', source: 'INPUT', content: [{ text: { text: 'a forbidden topic' } }] }));
      t.equal(g.action, 'GUARDRAIL_INTERVENED', `ApplyGuardrail ${id}: the guardrail's verdict`);
      t.same(g.outputs, [{ text: 'Sorry, the model cannot answer this question.' }]);
      t.equal(mock.requests.at(-1)!.url, `/guardrail/${encodeURIComponent(id)}/version/DRAFT/apply`, 'the identifier as the SDK encoded it');
      t.ok(signedByGateway(), "ApplyGuardrail: signed with the gateway's credentials");
      rec = await outcomeFor(requestId());
      t.equal(rec.outcome.status, 200);
      t.equal(rec.kind, 'auxiliary');
    }

    const job = await client.send(new GetAsyncInvokeCommand({ invocationArn: INVOCATION_ARN }));
    t.equal(job.invocationArn, INVOCATION_ARN, 'GetAsyncInvoke by its ARN');
    t.equal(job.status, 'Completed');
    t.ok(signedByGateway());
  });
}
