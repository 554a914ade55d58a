/**
 * The OpenAI SDK's Files upload (multipart) through the pass-through, and stream usage as
 * the SDK and the audit see it: with `n` choices the one usage chunk is counted once, and
 * the `stream()` helper's `totalUsage()` agrees with the recorded outcome.
 */
import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { CLIENT_KEY, OPENAI_KEY, startUnified } from '../../helpers/unified.js';

const setup = await startUnified(t);
const sdk = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${setup.gw.url}/v1/openai/v1`, maxRetries: 0 });
const hello = [{ role: 'user' as const, content: 'Hello' }];
const u = setup.openai.usage;

t.test('files.create: the multipart body arrives whole, with the gateway key; no tokens', async (t) => {
  const content = Buffer.concat([Buffer.from('{"custom_id":"a"}\n'), Buffer.from([0, 0xff]), Buffer.alloc(50_000, 0x42)]);
  const { data, response } = await sdk.files.create({ file: await toFile(content, 'batch.jsonl'), purpose: 'batch' }).withResponse();
  t.match(data, { id: 'file-mock01', bytes: content.length, purpose: 'batch', filename: 'batch.jsonl' });
  t.equal(setup.openai.last!.headers.authorization, `Bearer ${OPENAI_KEY}`);
  t.same(setup.openai.storedFiles.get('file-mock01')!.content, content, 'byte for byte');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.kind, 'auxiliary');
  t.same([rec.outcome.usage?.inputTokens ?? 0, rec.outcome.usage?.outputTokens ?? 0], [0, 0]);
});

t.test('n=2 streams: usage once for all choices, asked for or added by the gateway', async (t) => {
  for (const include of [true, false]) {
    const { data: stream, response } = await sdk.chat.completions
      .create({ model: 'gpt-4o', messages: hello, n: 2, stream: true, ...(include ? { stream_options: { include_usage: true } } : {}) })
      .withResponse();
    const usages = [];
    const choices = new Set<number>();
    for await (const c of stream) {
      if (c.usage) usages.push(c.usage);
      for (const ch of c.choices) choices.add(ch.index);
    }
    t.same([...choices].sort(), [0, 1], 'both choices streamed');
    t.equal(usages.length, include ? 1 : 0, include ? 'the usage chunk once' : 'no usage chunk the client did not ask for');
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.same(rec.outcome.usage, { inputTokens: u.prompt_tokens - u.cached_tokens, outputTokens: u.completion_tokens, cacheCreationTokens: 0, cacheReadTokens: u.cached_tokens }, 'counted once, not per choice');
  }
});

t.test("stream() helper: totalUsage() is the audit's count (cached tokens kept apart there)", async (t) => {
  // The helper hides the HTTP response: read the gateway's request id on the way in.
  let id = '';
  const watched = new OpenAI({
    apiKey: CLIENT_KEY, baseURL: `${setup.gw.url}/v1/openai/v1`, maxRetries: 0,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      id = res.headers.get('x-request-id') ?? '';
      return res;
    },
  });
  const runner = watched.chat.completions.stream({ model: 'gpt-4o', messages: hello, stream_options: { include_usage: true } });
  const total = await runner.totalUsage();
  const rec = await outcomeFor(id);
  const o = rec.outcome.usage!;
  t.equal(total.prompt_tokens, o.inputTokens + o.cacheReadTokens, 'prompt tokens: input plus cached');
  t.equal(total.completion_tokens, o.outputTokens);
});
