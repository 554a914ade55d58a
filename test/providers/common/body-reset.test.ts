/**
 * An upstream that sends its head and half its body, then resets the connection: on the
 * unified endpoint (Anthropic, Gemini, Bedrock Converse) the client and the audit line
 * hear what a pass-through says of the same cut (`Upstream connection failed mid-response
 * (…)`, GW_ERR_UPSTREAM_PROTOCOL 502), never that the upstream sent a body that is not
 * JSON, and an error status whose body is cut is no internal error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { translatedUpstream } from '../../helpers/translated-upstream.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';

/** What the next answer's head says; its body is cut halfway whatever it is. */
let head = { status: 200, body: '' };
const gw = await translatedUpstream(
  t,
  (res) => {
    res.writeHead(head.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(head.body) });
    res.write(head.body.slice(0, head.body.length >> 1));
    // Let the half reach the gateway first.
    void sleep(50).then(() => res.socket?.destroy());
  },
  `filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);

const ANSWERS = {
  anthropic: { model: 'claude-sonnet-4-5', body: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hello from upstream, a little longer' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } } },
  gemini: { model: 'gemini-2.5-flash', body: { candidates: [{ content: { role: 'model', parts: [{ text: 'hello from upstream, a little longer' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 }, modelVersion: 'gemini-2.5-flash' } },
  bedrock: { model: 'anthropic.claude-3-haiku-20240307-v1:0', body: { output: { message: { role: 'assistant', content: [{ text: 'hello from upstream, a little longer' }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, metrics: { latencyMs: 1 } } },
};
const ERRORS = {
  anthropic: { type: 'error', error: { type: 'api_error', message: 'upstream had a bad day, said at some length' } },
  gemini: { error: { code: 500, message: 'upstream had a bad day, said at some length', status: 'INTERNAL' } },
  bedrock: { message: 'upstream had a bad day, said at some length' },
};

async function unified(model: string): Promise<{ status: number; error: { message: string; type: string }; requestId: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 50 }) });
  const body = (await res.json()) as { error: { message: string; type: string } };
  return { status: res.status, error: body.error, requestId: res.headers.get('x-request-id')! };
}

// The pass-through's word for the cut, to hold the unified endpoint to.
head = { status: 200, body: JSON.stringify(ANSWERS.anthropic.body) };
const cut = await fetch(`${gw.url}/v1/claude/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }) });
await cut.text().catch(() => '');
const passthrough = (await outcomeFor(cut.headers.get('x-request-id')!)).outcome.error!;

t.test('the pass-through names a cut body as a failed connection', async (t) => {
  t.equal(passthrough.code, 'GW_ERR_UPSTREAM_PROTOCOL');
  t.match(passthrough.message, /^Upstream connection failed mid-response \(\w+\)$/);
});

for (const provider of ['anthropic', 'gemini', 'bedrock'] as const) {
  for (const status of [200, 500]) {
    t.test(`${provider}: a ${status} answer cut mid-body says what the pass-through says`, async (t) => {
      head = { status, body: JSON.stringify(status === 200 ? ANSWERS[provider].body : ERRORS[provider]) };
      const res = await unified(ANSWERS[provider].model);
      t.equal(res.status, 502);
      t.equal(res.error.message, passthrough.message, 'not "a body that is not a JSON message", nor an internal error');
      const rec = await outcomeFor(res.requestId);
      t.equal(rec.outcome.provider, provider);
      t.same(rec.outcome.error, { kind: 'upstream_error', code: 'GW_ERR_UPSTREAM_PROTOCOL', message: passthrough.message });
    });
  }
}
