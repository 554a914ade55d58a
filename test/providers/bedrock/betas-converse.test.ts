/**
 * `anthropic_betas` on Converse and ConverseStream: Converse clients (Continue's Bedrock
 * provider, the Vercel AI SDK, boto3) put betas in `additionalModelRequestFields.anthropic_beta`,
 * which Bedrock refuses with "invalid beta flag" like InvokeModel's (continuedev/continue#8297).
 * That list is filtered as InvokeModel's is: the member removed when nothing is left, the rest
 * of `additionalModelRequestFields` kept; a body with nothing to drop goes byte for byte.
 */
import t from 'tap';
import { postWithBetas as post, sent } from '../../helpers/bedrock-betas.js';
import { SONNET, startBedrock } from '../../helpers/bedrock.js';

const ALLOWED = 'interleaved-thinking-2025-05-14';
const PROVIDER_YAML = `    anthropic_betas:
      allow: [${ALLOWED}]`;

const OPS = ['converse', 'converse-stream'].map((op) => `/model/${encodeURIComponent(SONNET)}/${op}`);

function converseBody(fields?: Record<string, unknown>): string {
  return JSON.stringify({
    messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
    inferenceConfig: { maxTokens: 64 },
    ...(fields ? { additionalModelRequestFields: fields } : {}),
  });
}

t.test('Converse and ConverseStream: betas not allowed leave additionalModelRequestFields.anthropic_beta; a body with nothing to drop goes byte for byte', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const op of OPS) {
    const fields = { top_k: 5, anthropic_beta: ['fine-grained-tool-streaming-2025-05-14', ALLOWED, 'claude-code-20250219'] };
    const res = await post(endpoint + op, converseBody(fields), `claude-code-20250219,${ALLOWED}`);
    t.equal(res.status, 200, `${op}: served`);
    const up = mock.last!;
    t.same(sent(up).additionalModelRequestFields, { top_k: 5, anthropic_beta: [ALLOWED] }, `${op}: the allowed beta kept, top_k untouched`);
    t.same(sent(up).messages, [{ role: 'user', content: [{ text: 'Hello' }] }], `${op}: the rest of the body intact`);
    t.equal(up.headers['anthropic-beta'], ALLOWED, `${op}: the header shortened too`);
  }

  // Nothing to drop: byte for byte (spacing JSON.stringify would not write shows a re-serialised body).
  const untouched = [
    '{ "messages": [ {"role":"user","content":[{"text":"Hi \\u00e9"}]} ],  "inferenceConfig": {"maxTokens": 64} }',
    `{ "messages": [{"role":"user","content":[{"text":"Hi"}]}], "additionalModelRequestFields": { "anthropic_beta": [ "${ALLOWED}" ], "top_k": 5 } }`,
    // A top-level anthropic_beta is not where Converse reads betas: left for Bedrock to judge.
    '{ "messages": [{"role":"user","content":[{"text":"Hi"}]}], "anthropic_beta": ["claude-code-20250219"] }',
  ];
  for (const body of untouched) {
    for (const op of OPS) {
      const res = await post(endpoint + op, body, ALLOWED);
      t.equal(res.status, 200);
      t.equal(mock.last!.body.toString('utf8'), body, `${op}: ${body.slice(0, 70)}…`);
      t.equal(mock.last!.headers['anthropic-beta'], ALLOWED, `${op}: an allowed header unchanged`);
    }
  }
});

t.test('nothing left: the member is removed, additionalModelRequestFields otherwise kept', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const op of OPS) {
    await post(endpoint + op, converseBody({ anthropic_beta: ['fine-grained-tool-streaming-2025-05-14'], top_k: 5 }));
    t.same(sent(mock.last!).additionalModelRequestFields, { top_k: 5 }, `${op}: top_k alone`);
    await post(endpoint + op, converseBody({ anthropic_beta: ['fine-grained-tool-streaming-2025-05-14'] }));
    t.same(sent(mock.last!).additionalModelRequestFields, {}, `${op}: an empty object, not an empty list`);
  }
});

t.test('without anthropic_betas Converse betas are forwarded as before', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const body = converseBody({ anthropic_beta: ['fine-grained-tool-streaming-2025-05-14'] });
  await post(endpoint + OPS[0], body, 'claude-code-20250219');
  t.equal(mock.last!.body.toString('utf8'), body);
  t.equal(mock.last!.headers['anthropic-beta'], 'claude-code-20250219');
});
