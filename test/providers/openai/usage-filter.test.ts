/**
 * The OpenAI provider's stream pieces in isolation: the usage-chunk filter (drops exactly
 * that event, byte-exact otherwise, whatever the chunking), the request rewrite, the
 * usage arithmetic, and the path mapping.
 */
import t from 'tap';
import { UsageChunkFilter } from '../../../providers/openai/usage-filter.js';
import { needsUsageRewrite, withIncludeUsage } from '../../../providers/openai/rewrite.js';
import { openaiJsonMeter } from '../../../providers/openai/usage.js';
import { upstreamPath } from '../../../providers/openai/paths.js';

const chunk = (delta: unknown, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
const usageEvent = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 60 } } })}\n\n`;
const kept = [': keep-alive\n\n', chunk({ role: 'assistant', content: '' }), chunk({ content: 'Héllo ✓' }), chunk({}, 'stop')].join('');
const stream = kept + usageEvent + 'data: [DONE]\n\n';
const expected = kept + 'data: [DONE]\n\n';

function run(input: Buffer, cuts: number[]): { out: string; filter: UsageChunkFilter } {
  const filter = new UsageChunkFilter();
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    parts.push(filter.write(input.subarray(at, cut)));
    at = cut;
  }
  parts.push(filter.end());
  return { out: Buffer.concat(parts).toString('utf8'), filter };
}

t.test('drops only the usage-only chunk, byte for byte otherwise, and reads its usage', async (t) => {
  const { out, filter } = run(Buffer.from(stream), []);
  t.equal(out, expected);
  t.same(filter.meter().usage, { inputTokens: 40, outputTokens: 7, cacheCreationTokens: 0, cacheReadTokens: 60 });
  t.equal(filter.meter().model, 'gpt-4o');
});

t.test('identical output when the stream is split at random byte offsets (incl. mid UTF-8)', async (t) => {
  const input = Buffer.from(stream);
  let seed = 42;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 200; round++) {
    const cuts = [...new Set(Array.from({ length: 1 + rand(12) }, () => 1 + rand(input.length - 1)))].sort((a, b) => a - b);
    const { out, filter } = run(input, cuts);
    if (out !== expected) return t.fail(`differs with cuts ${cuts.join(',')}`);
    if (filter.meter().usage.outputTokens !== 7) return t.fail(`usage lost with cuts ${cuts.join(',')}`);
  }
  t.pass('200 random splits');
  const bytewise = run(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1));
  t.equal(bytewise.out, expected, 'one byte at a time');
});

t.test('CRLF framing and a usage chunk at the very end without its blank line', async (t) => {
  const crlf = stream.replace(/\n/g, '\r\n');
  t.equal(run(Buffer.from(crlf), [5, 50]).out.replace(/\r\n/g, '\n').replace(/^\n/gm, ''), expected.replace(/^\n/gm, ''));
  const truncated = kept + usageEvent.trimEnd();
  t.equal(run(Buffer.from(truncated), [10]).out, kept);
});

t.test('nothing is held back beyond the partial event', async (t) => {
  const filter = new UsageChunkFilter();
  const first = chunk({ content: 'a' });
  t.equal(Buffer.from(filter.write(Buffer.from(first + 'data: {"id"'))).toString(), first, 'a complete event goes out at once');
});

t.test('the request rewrite', async (t) => {
  const raw = Buffer.from(' {"model":"gpt-4o",  "stream":true,"messages":[]}');
  const parsed = JSON.parse(raw.toString());
  t.ok(needsUsageRewrite(parsed));
  t.equal(withIncludeUsage(raw, parsed).toString(), ' {"stream_options":{"include_usage":true},"model":"gpt-4o",  "stream":true,"messages":[]}', 'spliced, client bytes kept');
  const withOptions = { model: 'gpt-4o', stream: true, stream_options: { include_usage: false } };
  t.same(JSON.parse(withIncludeUsage(Buffer.from(JSON.stringify(withOptions)), withOptions).toString()).stream_options, { include_usage: true });
  t.notOk(needsUsageRewrite({ stream: true, stream_options: { include_usage: true } }));
  t.notOk(needsUsageRewrite({ stream: false }));
  t.ok(needsUsageRewrite({ stream: true, stream_options: null }), 'null is no options: set them');
  // Not an object: OpenAI refuses it; rewriting would turn [1] into {"0":1,"include_usage":true}.
  for (const odd of [[1], 'x', 5, true]) t.notOk(needsUsageRewrite({ stream: true, stream_options: odd }), `stream_options ${JSON.stringify(odd)} left for OpenAI to judge`);
});

t.test('JSON usage: cached tokens counted apart', async (t) => {
  const m = openaiJsonMeter();
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-2024-08-06', usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 } } }));
  m.write(body.subarray(0, 10));
  m.write(body.subarray(10));
  m.end();
  t.same(m.usage, { inputTokens: 86, outputTokens: 300, cacheCreationTokens: 0, cacheReadTokens: 1920 });
  t.equal(m.model, 'gpt-4o-2024-08-06');
});

t.test('path mapping', async (t) => {
  t.equal(upstreamPath('/v1/chat/completions', '', ''), '/v1/chat/completions');
  t.equal(upstreamPath('/chat/completions', '', ''), '/v1/chat/completions');
  t.equal(upstreamPath('/models', 'limit=2', '/api'), '/api/v1/models?limit=2');
  const status = (path: string): number | undefined => {
    try {
      upstreamPath(path, '', '');
    } catch (err) {
      return (err as { status?: number }).status;
    }
    return undefined;
  };
  for (const bad of ['/v1/../admin', '/v1/%2e%2e/x', '/v1/%252e%252e/x', '/v1/a%2fb']) t.equal(status(bad), 400, bad);
  t.equal(status('/dashboard'), 404);
});
