/**
 * A Gemini stream cut before its last chunk is charged an output estimate. Gemini's
 * intermediate chunks carry `usageMetadata` with the prompt's count only (or none, on
 * Vertex); the output counts come with the `finishReason` chunk. A stream cut by the
 * upstream, or by a client that read the whole text and hung up, on the unified endpoint
 * and on the `alt=sse` pass-through, is charged a quarter of the text it read.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import OpenAI from 'openai';
import { startGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';

const WORDS = 'The quick brown fox jumps over the lazy dog and keeps running far away from here until the story ends'.split(' ').map((w, i) => (i ? ` ${w}` : w));
const TEXT_TOKENS = Math.ceil(WORDS.join('').length / 4);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** An intermediate chunk as Gemini sends it: the prompt count, no candidates count yet. */
const part = (text: string) => `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }], usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 }, modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`;
const last = `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: '.' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 21, totalTokenCount: 33 }, modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`;

t.test('a Gemini stream cut before its last chunk is charged an output estimate', async (t) => {
  let mode: 'upstream-cut' | 'slow-end' = 'upstream-cut';
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const w of WORDS) res.write(part(w));
      if (mode === 'upstream-cut') {
        await sleep(20);
        return void res.destroy();
      }
      await sleep(1500); // the client hangs up in the meantime
      res.end(last);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { upstream.closeAllConnections(); upstream.close(() => r()); }));
  const gw = await startGateway(t, `
providers:
  gemini:
    api_key: gem-key
    base_url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
  const client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 });

  const check = async (name: string, id: string): Promise<void> => {
    const { outcome } = await outcomeFor(id);
    t.equal(outcome.usageEstimated, true, `${name}: usage is marked as estimated`);
    t.ok(outcome.usage.outputTokens >= TEXT_TOKENS, `${name}: the answer read is charged (got ${outcome.usage.outputTokens} output tokens, expected >= ${TEXT_TOKENS})`);
  };

  // 1. unified endpoint, the upstream cuts the stream before the final chunk
  mode = 'upstream-cut';
  {
    const { data: stream, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', stream: true, messages: [{ role: 'user', content: 'story' }] }).withResponse();
    let text = '';
    try {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    } catch {
      // the error chunk the gateway appends
    }
    t.equal(text, WORDS.join(''), 'the client got the whole answer but the last chunk');
    await check('unified, upstream cut', String(response.headers.get('x-request-id')));
  }
  // 2. unified endpoint, the client hangs up once it has the answer
  mode = 'slow-end';
  {
    const ac = new AbortController();
    const { data: stream, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', stream: true, messages: [{ role: 'user', content: 'story' }] }, { signal: ac.signal }).withResponse();
    let text = '';
    try {
      for await (const c of stream) {
        text += c.choices[0]?.delta?.content ?? '';
        if (text === WORDS.join('')) ac.abort();
      }
    } catch {
      // aborted
    }
    await check('unified, client hang-up', String(response.headers.get('x-request-id')));
  }
  // 3. pass-through /v1/gemini, the upstream cuts the stream
  mode = 'upstream-cut';
  {
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        const rid = String(res.headers['x-request-id']);
        res.resume();
        res.on('end', () => resolve(rid));
        res.on('error', () => resolve(rid));
        res.on('aborted', () => resolve(rid));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'story' }] }] }));
    });
    await check('pass-through, upstream cut', id);
  }
});
