/**
 * Gemini's batch create (`models/{model}:batchGenerateContent`) is held to the validator's
 * rules as each of its requests would be alone: the path's model, a request's own model
 * (`models/…`), `generationConfig.maxOutputTokens` (clamped in place when so configured) and
 * the prompt limits, refused in Google's error shape naming the field. A batch whose requests
 * are in an uploaded file is refused under a model allowlist. Both spellings Google reads
 * (`inputConfig` / `input_config`) are judged; embeddings batches are not.
 */
import t, { type Test } from 'tap';
import { ApiError, GoogleGenAI } from '@google/genai';
import { startGateway } from '../../helpers/gateway.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';

const KEY = 'AIza-gateway-key-000000000000000000';

interface Answer {
  status: number;
  headers: Headers;
  error?: { code: number; message: string; status: string };
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, error: res.status === 200 ? undefined : (JSON.parse(text) as { error: Answer['error'] }).error };
}

async function gateway(t: Test, validator: string): Promise<{ mock: GeminiMock; base: string }> {
  const mock = await GeminiMock.start(KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  gemini: { api_key: ${KEY}, base_url: "${mock.url}" }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config: ${validator}
workspaces:
  ws-a: { user: alice }
`);
  return { mock, base: `${gw.url}/v1/gemini` };
}

const create = (model: string) => `/v1beta/models/${model}:batchGenerateContent`;
const request = (extra: Record<string, unknown> = {}) => ({ contents: [{ role: 'user', parts: [{ text: 'Summarise this.' }] }], generationConfig: { maxOutputTokens: 1024 }, ...extra });
/** The REST docs' spelling (`input_config`), or the SDKs' (`inputConfig`). */
interface InputConfig {
  requests: { requests: Array<{ request: Record<string, unknown>; metadata: { key: string } }> };
}
interface InlineBatch {
  batch: { display_name: string; input_config?: InputConfig; inputConfig?: InputConfig };
}
const inline = (requests: Array<Record<string, unknown>>, spelling: 'input_config' | 'inputConfig' = 'input_config'): InlineBatch => ({
  batch: { display_name: 'job', [spelling]: { requests: { requests: requests.map((r, i) => ({ request: r, metadata: { key: `r${i}` } })) } } },
});

t.test("the path's model, each request's model and caps, named by their place in Google's error shape", async (t) => {
  const { mock, base } = await gateway(t, '{ models: ["gemini-2.5-flash*"], max_tokens: 1024 }');
  const pro = await post(base + create('gemini-2.5-pro'), inline([request()]));
  t.equal(pro.status, 403, 'the batch model in the path');
  t.equal(pro.error?.status, 'PERMISSION_DENIED', "Google's shape");
  t.equal(pro.error?.message, 'model: "gemini-2.5-pro" is not allowed for this gateway');

  for (const spelling of ['input_config', 'inputConfig'] as const) {
    const own = await post(base + create('gemini-2.5-flash'), inline([request(), request({ model: 'models/gemini-2.5-pro' })], spelling));
    t.equal(own.status, 403, `${spelling}: a request naming its own model`);
    t.equal(own.error?.message, `batch.${spelling}.requests.requests[1].request.model: "gemini-2.5-pro" is not allowed for this gateway`);
    const cap = await post(base + create('gemini-2.5-flash'), inline([request({ generationConfig: { maxOutputTokens: 64000 } })], spelling));
    t.equal(cap.status, 400, `${spelling}: a cap above the maximum`);
    t.equal(cap.error?.status, 'INVALID_ARGUMENT');
    t.equal(cap.error?.message, `batch.${spelling}.requests.requests[0].request.generationConfig.maxOutputTokens: 64000 is above the maximum of 1024`);
  }
  t.equal(mock.requests.length, 0, 'nothing reached Google');

  const body = JSON.stringify(inline([request(), request({ model: 'models/gemini-2.5-flash-lite' })]));
  const ok = await post(base + create('gemini-2.5-flash'), body);
  t.equal(ok.status, 200, 'a batch within every rule');
  t.equal(mock.last?.body.toString(), body, 'forwarded byte for byte');
});

t.test('clamp: every cap above the maximum is lowered in place, the rest as sent', async (t) => {
  const { mock, base } = await gateway(t, '{ max_tokens: 1024, max_tokens_action: clamp }');
  const sent = inline([request({ generationConfig: { maxOutputTokens: 64000, temperature: 0 } }), request({ generationConfig: { maxOutputTokens: 10 } }), request({ systemInstruction: { parts: [{ text: 'Résumé ✓' }] }, generationConfig: { maxOutputTokens: 2000 } })], 'inputConfig');
  const r = await post(base + create('gemini-2.5-flash'), sent);
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-gateway-max-tokens-clamped'), '64000->1024', 'the largest cap lowered');
  const forwarded = mock.lastJson() as unknown as InlineBatch;
  const caps = forwarded.batch.inputConfig!.requests.requests.map((q) => (q.request.generationConfig as { maxOutputTokens: number }).maxOutputTokens);
  t.same(caps, [1024, 10, 1024], 'each over the maximum lowered, the one within kept');
  const expected = structuredClone(sent);
  (expected.batch.inputConfig!.requests.requests[0].request.generationConfig as { maxOutputTokens: number }).maxOutputTokens = 1024;
  (expected.batch.inputConfig!.requests.requests[2].request.generationConfig as { maxOutputTokens: number }).maxOutputTokens = 1024;
  t.same(forwarded, expected, 'nothing else changed: metadata, prompts, other settings');
});

t.test("a prompt limit, and the user's model list through the real SDK", async (t) => {
  const { mock, base } = await gateway(t, `{ max_prompt_chars: 100, users: { alice: { models: ["gemini-2.5-flash"] } } }`);
  const long = await post(base + create('gemini-2.5-flash'), inline([request(), request({ contents: [{ role: 'user', parts: [{ text: 'x'.repeat(101) }] }] })]));
  t.equal(long.status, 400);
  t.equal(long.error?.message, 'batch.input_config.requests.requests[1].request.messages: the prompt is 101 characters, above the maximum of 100');

  const ai = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: base, headers: { 'x-workspace-id': 'ws-a' } } });
  const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }], config: { displayName: 'sdk-job' } });
  t.equal(job.name, 'batches/mock01', 'the SDK creates a batch within the rules');
  t.equal(mock.last?.url, '/v1beta/models/gemini-2.5-flash:batchGenerateContent');
  const refused = await ai.batches
    .create({ model: 'gemini-2.5-flash', src: [{ model: 'gemini-2.5-pro', contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }], config: { displayName: 'sdk-job' } })
    .then(() => undefined, (err: unknown) => err);
  t.ok(refused instanceof ApiError, "the SDK raises its ApiError");
  t.equal((refused as ApiError).status, 403);
  t.match((refused as ApiError).message, 'batch.inputConfig.requests.requests[0].request.model: \\"gemini-2.5-pro\\" is not allowed for user \\"alice\\"');
  t.equal(mock.requests.length, 1, 'only the good batch forwarded');
});

t.test('a file of requests: refused under a model allowlist, forwarded without one', async (t) => {
  const { mock, base } = await gateway(t, '{ models: ["gemini-*"] }');
  for (const config of [{ input_config: { file_name: 'files/abc' } }, { inputConfig: { fileName: 'files/abc' } }, { input_config: { fileName: 'files/abc' } }]) {
    const field = `batch.${Object.keys(config)[0]}.${Object.keys(Object.values(config)[0])[0]}`;
    const r = await post(base + create('gemini-2.5-flash'), { batch: { display_name: 'job', ...config } });
    t.equal(r.status, 403, `${field}: refused`);
    t.match(r.error?.message, new RegExp(`^${field.replace(/\./g, '\\.')}: a batch's requests are in an uploaded file the gateway cannot read`));
  }
  const both = await post(base + create('gemini-2.5-flash'), { batch: { input_config: inline([request()]).batch.input_config, inputConfig: { fileName: 'files/abc' } } });
  t.equal(both.status, 400, 'both spellings at once: which Google runs cannot be told');
  t.equal(both.error?.message, 'batch.input_config: given twice, also as batch.inputConfig; send one');
  t.equal(mock.requests.length, 0);
  const embed = await post(`${base}/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent`, { batch: { display_name: 'e', input_config: { file_name: 'files/abc' } } });
  t.not(embed.status, 403, 'an embeddings batch generates nothing: not judged');
  t.equal(mock.requests.length, 1, 'and forwarded');

  const open = await gateway(t, '{ max_tokens: 1024 }');
  t.equal((await post(open.base + create('gemini-2.5-pro'), { batch: { display_name: 'job', input_config: { file_name: 'files/abc' } } })).status, 200, 'no allowlist: a file batch is forwarded');
});

t.test("the cap in the proto's own spelling (generation_config.max_output_tokens) is the same cap", async (t) => {
  const { mock, base } = await gateway(t, '{ max_tokens: 1024 }');
  for (const config of [{ generation_config: { max_output_tokens: 64000 } }, { generation_config: { maxOutputTokens: 64000 } }, { generationConfig: { max_output_tokens: 64000 } }]) {
    const field = `${Object.keys(config)[0]}.${Object.keys(Object.values(config)[0])[0]}`;
    const inBatch = await post(base + create('gemini-2.5-flash'), inline([{ contents: request().contents, ...config }]));
    t.equal(inBatch.error?.message, `batch.input_config.requests.requests[0].request.${field}: 64000 is above the maximum of 1024`, `${field}: in a batch`);
    const single = await post(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, { contents: request().contents, ...config });
    t.equal(single.error?.message, `${field}: 64000 is above the maximum of 1024`, `${field}: in a single request`);
  }
  t.equal(mock.requests.length, 0);

  const clamp = await gateway(t, '{ max_tokens: 1024, max_tokens_action: clamp }');
  const r = await post(clamp.base + create('gemini-2.5-flash'), inline([{ contents: request().contents, generation_config: { max_output_tokens: 64000, temperature: 0 } }]));
  t.equal(r.status, 200);
  const forwarded = clamp.mock.lastJson() as unknown as InlineBatch;
  t.same(forwarded.batch.input_config!.requests.requests[0].request.generation_config, { max_output_tokens: 1024, temperature: 0 }, 'lowered where it was');
});
