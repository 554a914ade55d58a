/**
 * Bedrock's `chat()` stream decoding without a network: ConverseStream bytes re-split at
 * random offsets give the same OpenAI SSE as whole frames; a malformed or truncated event
 * stream ends with an error chunk and a stream error; a non-event-stream 200 is refused.
 */
import t from 'tap';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import type { ProviderResponse, RequestContext } from '../../../core/index.js';
import { bedrockChat, type ChatSettings } from '../../../providers/bedrock/chat.js';
import { BedrockMock } from '../../mocks/bedrock-mock.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const mock = await BedrockMock.start([]);
await mock.close();
const ctx = { headers: {}, signal: new AbortController().signal } as unknown as RequestContext;

/** A settings object whose upstream answers `chunks` as an event stream. */
function answering(chunks: Uint8Array[], contentType = 'application/vnd.amazon.eventstream'): ChatSettings {
  return {
    basePath: '',
    forwardHeaders: [],
    send: async (): Promise<ProviderResponse> => ({
      status: 200,
      headers: { 'content-type': contentType },
      body: (async function* () {
        yield* chunks;
      })(),
    }),
  };
}

async function run(chunks: Uint8Array[], includeUsage = true): Promise<{ sse: string; writes: number; res: ProviderResponse }> {
  const res = await bedrockChat(ctx, { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: includeUsage } }, answering(chunks));
  let sse = '';
  let writes = 0;
  for await (const c of res.body as AsyncIterable<Uint8Array>) {
    sse += Buffer.from(c).toString('utf8');
    writes++;
  }
  // Ids and timestamps differ per request; the rest must not.
  return { sse: sse.replace(/chatcmpl-[0-9a-f]+/g, 'ID').replace(/"created":\d+/g, '"created":0'), writes, res };
}

function resplit(bytes: Buffer, seed: number): Uint8Array[] {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; ) {
    const n = 1 + Math.floor(rand() * 40);
    out.push(bytes.subarray(off, off + n));
    off += n;
  }
  return out;
}

t.test('re-split at random byte offsets: identical SSE, one write per completed frame at most', async (t) => {
  for (const tool of [undefined, 'get_weather']) {
    const frames = mock.converseFrames(tool);
    const whole = await run(frames);
    t.match(whole.sse, /data: \[DONE\]\n\n$/);
    t.equal(whole.writes, frames.length - 1, 'contentBlockStop writes nothing; every other frame is answered at once');
    for (let seed = 1; seed <= 25; seed++) {
      const split = await run(resplit(Buffer.concat(frames), seed));
      t.equal(split.sse, whole.sse, `${tool ?? 'text'}, seed ${seed}`);
    }
    t.same(whole.res.meter?.usage, { inputTokens: 51, outputTokens: 52, cacheReadTokens: 53, cacheCreationTokens: 54 });
    t.equal(whole.res.meter?.streamError, undefined);
  }
});

t.test('a stream cut in the middle of a frame ends with an error chunk and a stream error', async (t) => {
  const frames = mock.converseFrames();
  const { sse, res } = await run([...frames.slice(0, 3), frames[3].subarray(0, 20)]);
  t.match(sse, /data: \{"error":\{"message":"Upstream stream ended in the middle of an event","type":"server_error"/);
  t.notMatch(sse, /\[DONE\]/);
  t.equal(res.meter?.streamError, 'event stream ended in the middle of a frame');
});

t.test('bytes that are not an event stream end with an error chunk at once', async (t) => {
  const frames = mock.converseFrames();
  const corrupt = Buffer.from(frames[1]);
  corrupt[corrupt.length - 1] ^= 0xff; // the message CRC no longer matches
  const { sse, res } = await run([frames[0], corrupt, ...frames.slice(2)]);
  t.match(sse, /"role":"assistant"/);
  t.match(sse, /data: \{"error":\{"message":"Upstream sent a malformed event stream"/);
  t.notMatch(sse, /Hello/, 'nothing after the corrupt frame was translated');
  t.match(res.meter?.streamError, /^malformed event stream: /);
});

t.test('an `error` message (no JSON payload) is a server error chunk', async (t) => {
  const error = codec.encode({ headers: { ':message-type': { type: 'string', value: 'error' }, ':error-code': { type: 'string', value: 'InternalFailure' }, ':error-message': { type: 'string', value: 'boom' } }, body: new Uint8Array(0) });
  const { sse, res } = await run([mock.converseFrames()[0], error]);
  t.match(sse, /data: \{"error":\{"message":"boom","type":"server_error"/);
  t.match(res.meter?.streamError, /boom/);
});

t.test('a 200 ConverseStream that is not an event stream is a protocol error', async (t) => {
  const err = await bedrockChat(ctx, { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true }, answering([Buffer.from('{}')], 'application/json')).catch((e: unknown) => e);
  t.match(err, { code: 'GW_ERR_UPSTREAM_PROTOCOL', status: 502 });
});
