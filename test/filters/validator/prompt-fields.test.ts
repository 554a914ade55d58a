/**
 * The prompt-size limits measure every field a prompt can sit in. The Responses API keeps
 * its system prompt in `instructions`: text moved there from `input` must be measured alike,
 * or `max_prompt_chars` and `max_prompt_tokens` are bypassed by moving it.
 */
import t from 'tap';
import { promptChars } from '../../../filters/validator/prompt.js';
import { startGateway } from '../../helpers/gateway.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

t.test('promptChars counts Responses `instructions` beside `input`', async (t) => {
  t.equal(promptChars({ model: 'gpt-4o', instructions: 'i'.repeat(300), input: 'u'.repeat(200) }), 500);
  t.equal(promptChars({ model: 'gpt-4o', instructions: 'i'.repeat(300), input: [{ role: 'user', content: [{ type: 'input_text', text: 'u'.repeat(200) }] }] }), 500, 'input items too');
});

t.test("promptChars counts Gemini's system instruction in either spelling", async (t) => {
  const contents = [{ role: 'user', parts: [{ text: 'u'.repeat(200) }] }];
  t.equal(promptChars({ contents, systemInstruction: { parts: [{ text: 's'.repeat(300) }] } }), 500);
  t.equal(promptChars({ contents, system_instruction: { parts: [{ text: 's'.repeat(300) }] } }), 500, 'the proto spelling Google also accepts');
});

t.test('Responses API: a prompt in `instructions` is held to max_prompt_chars and max_prompt_tokens as one in `input`', async (t) => {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  openai: { api_key: k, base_url: "${mock.url}" }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      providers:
        openai: { max_prompt_chars: 1000 }
      users:
        bob: { max_prompt_tokens: 100 }
workspaces:
  ws-a: { user: alice }
  ws-b: { user: bob }
`);
  const post = async (body: unknown, workspace = 'ws-a'): Promise<{ status: number; message?: string }> => {
    const res = await fetch(`${gw.url}/v1/openai/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, message: res.status === 200 ? undefined : (JSON.parse(text) as { error: { message: string } }).error.message };
  };
  t.equal((await post({ model: 'gpt-4o', input: 'y'.repeat(5000) })).status, 400, 'in `input`: refused');
  const moved = await post({ model: 'gpt-4o', instructions: 'y'.repeat(5000), input: 'hi' });
  t.equal(moved.status, 400, 'in `instructions`: refused too');
  t.match(moved.message, /5002 characters, above the maximum of 1000/);
  t.equal((await post({ model: 'gpt-4o', instructions: 'y'.repeat(600), input: 'z'.repeat(401) })).status, 400, 'the two are summed');
  const before = mock.requests.length;
  t.equal((await post({ model: 'gpt-4o', instructions: 'y'.repeat(600), input: 'z'.repeat(400) })).status, 200, 'within, together: forwarded');
  t.equal(mock.requests.length, before + 1);
  // 4 characters a token: 398 + 2 is 100 tokens, 399 + 2 is 101.
  t.equal((await post({ model: 'gpt-4o', instructions: 'y'.repeat(398), input: 'hi' }, 'ws-b')).status, 200, 'tokens: at the maximum');
  const overTokens = await post({ model: 'gpt-4o', instructions: 'y'.repeat(399), input: 'hi' }, 'ws-b');
  t.equal(overTokens.status, 400, 'tokens: `instructions` counted in the estimate');
  t.match(overTokens.message, /about 101 tokens, above the maximum of 100/);
});
