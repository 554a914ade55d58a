/**
 * Mistral's own API roots are reachable on an `openai`-type entry whose base URL ends at the
 * gateway prefix (`/v1/mistral/fim/completions`, as a tool configured with
 * `http://gateway/v1/mistral` sends them), each with its `/v1` restored upstream and
 * classified as the `/v1/…` path is: FIM and agents completions are generations, a batch job
 * is judged, OCR, classifications and libraries pass through unmetered. They were the
 * gateway's 404 ("Unknown OpenAI API path"), only OpenAI's roots being known bare.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';

const USAGE = { prompt_tokens: 500, completion_tokens: 40, total_tokens: 540 };
const completion = { id: 'f1', object: 'chat.completion', created: 1, model: 'codestral-latest', choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }], usage: USAGE };

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
const gw = await startGateway(t, JSON.stringify({
  providers: { mistral: { type: 'openai', api_key: 'mistral-key-0000', base_url: upstream.url, stream_include_usage: false } },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'validator', config: { models: ['codestral-*', 'mistral-*', 'agent:ag:1'], max_tokens: 1024 } },
    { name: 'rate-limit', config: {} },
    { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
  ],
  rate_limits: { default: { tokens_per_minute: 100_000 } },
}));

async function post(path: string, body: unknown) {
  const res = await fetch(`${gw.url}/v1/mistral${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'routes' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id')! };
}

t.test('bare fim/ and agents/ are the generations their /v1 paths are', async (t) => {
  for (const [path, body] of [
    ['/fim/completions', { model: 'codestral-latest', prompt: 'def f(', max_tokens: 16 }],
    ['/agents/completions', { agent_id: 'ag:1', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
  ] as const) {
    upstream.script.push((_req, res) => json(res, 200, completion));
    const res = await post(path, body);
    t.equal(res.status, 200, path);
    t.equal(upstream.seen.at(-1)!.url, `/v1${path}`, `${path}: its /v1 restored upstream`);
    const rec = await outcomeFor(res.id);
    t.equal(rec.kind, 'generation', `${path}: a generation`);
    t.equal(rec.outcome.usage?.outputTokens, 40, `${path}: metered`);
  }
  const before = upstream.seen.length;
  t.equal((await post('/fim/completions', { model: 'codestral-latest', prompt: 'x', max_tokens: 99_999 })).status, 400, 'the validator judges the bare path too');
  t.equal(upstream.seen.length, before);
});

t.test('bare batch/jobs is judged as /v1/batch/jobs', async (t) => {
  const before = upstream.seen.length;
  const res = await post('/batch/jobs', { input_files: ['file-1'], endpoint: '/v1/chat/completions', model: 'devstral-medium' });
  t.equal(res.status, 403, 'a job model outside the allowlist');
  t.match(res.text, /devstral-medium/);
  t.equal(upstream.seen.length, before, 'not forwarded');
});

t.test('bare ocr/, classifications/, libraries/ and conversations/ reach the upstream; OCR is auxiliary, unmetered', async (t) => {
  upstream.script.push((_req, res) => json(res, 200, { pages: [], model: 'mistral-ocr-latest', usage_info: { pages_processed: 1 } }));
  const ocr = await post('/ocr', { model: 'mistral-ocr-latest', document: { type: 'document_url', document_url: 'https://example.com/a.pdf' } });
  t.equal(ocr.status, 200);
  t.equal(upstream.seen.at(-1)!.url, '/v1/ocr');
  const rec = await outcomeFor(ocr.id);
  t.equal(rec.kind, 'auxiliary', 'OCR generates no tokens here');
  for (const path of ['/classifications', '/libraries', '/conversations']) {
    upstream.script.push((_req, res) => json(res, 200, {}));
    const res = await fetch(`${gw.url}/v1/mistral${path}`, { headers: { 'x-user': 'routes' } });
    await res.text();
    t.equal(res.status, 200, `GET ${path}`);
    t.equal(upstream.seen.at(-1)!.url, `/v1${path}`);
  }
});
