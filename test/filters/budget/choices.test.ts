/**
 * The budget's worst case counts every completion a request asks for: OpenAI's `n` (and
 * `best_of` on completions) and Gemini's `candidateCount` each generate up to the cap.
 * It reserved the cap once, so `n: 8, max_tokens: 4000` ($0.32 at worst) went through a
 * $0.05 budget that refused one completion of 6000 tokens.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GEMINI_KEY = 'AIza-gateway-key-000000000000000000';

async function start(t: { teardown(fn: () => unknown): void }) {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gemini = await GeminiMock.start(GEMINI_KEY);
  t.teardown(() => gemini.close());
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-budget-choices-0000, base_url: "${upstream.url}" }
  gemini: { api_key: ${GEMINI_KEY}, base_url: "${gemini.url}" }
filters:
  - name: cost
  - name: budget
    config:
      global: { daily_usd: 0.05 }
pricing:
  providers:
    openai: { models: { "gpt-4o": { input: 2.5, output: 10 } } }
    gemini: { models: { "gemini-2.5-flash": { input: 0.3, output: 2.5 } } }
`);
  const post = async (path: string, body: unknown): Promise<number> => {
    const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.text();
    return res.status;
  };
  return { post, upstream, gemini };
}

const chat = (extra: Record<string, unknown>) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], ...extra });

t.test('OpenAI chat: n × max_tokens is the worst case, on the pass-through and the unified endpoint', async (t) => {
  const { post, upstream } = await start(t);
  // gpt-4o output at $10 a million: 4000 tokens $0.04, 6000 $0.06, 8 × 4000 $0.32.
  t.equal(await post('/v1/openai/v1/chat/completions', chat({ max_tokens: 6000 })), 403, 'one completion of 6000 tokens does not fit $0.05');
  t.equal(await post('/v1/openai/v1/chat/completions', chat({ n: 8, max_tokens: 4000 })), 403, 'nor do 8 of 4000');
  t.equal(await post('/v1/chat/completions', chat({ n: 8, max_tokens: 4000 })), 403, 'nor on the unified endpoint');
  t.equal(await post('/v1/openai/v1/chat/completions', chat({ n: 2, max_completion_tokens: 4000 })), 403, 'nor 2 of 4000 by max_completion_tokens');
  t.equal(upstream.seen.length, 0, 'none reached the upstream');
  t.equal(await post('/v1/openai/v1/chat/completions', chat({ n: 1, max_tokens: 4000 })), 200, 'one completion of 4000 ($0.04) fits');
});

t.test('OpenAI completions: best_of completions are generated whatever n returns', async (t) => {
  const { post, upstream } = await start(t);
  t.equal(await post('/v1/openai/v1/completions', { model: 'gpt-4o', prompt: 'x', best_of: 8, n: 1, max_tokens: 4000 }), 403);
  t.equal(upstream.seen.length, 0);
});

t.test('Gemini: candidateCount × maxOutputTokens is the worst case', async (t) => {
  const { post, gemini } = await start(t);
  // gemini-2.5-flash output at $2.5 a million: 8 × 4000 tokens $0.08, one $0.01.
  const body = (candidateCount: number) => ({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], generationConfig: { maxOutputTokens: 4000, candidateCount } });
  t.equal(await post('/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent', body(8)), 403, '8 candidates do not fit $0.05');
  t.equal(gemini.requests.length, 0, 'nothing reached Gemini');
  t.equal(await post('/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent', body(1)), 200, 'one does');
});
