/**
 * The Converse counterpart of the re-split test: framing is done before the translator
 * (event boundaries are given), so instead every recorded event list is fed one event at
 * a time — as decoded `@smithy/eventstream-codec` messages through `eventFromMessage` too —
 * and the output must equal the golden, each event answered at once in whole SSE events.
 */
import t from 'tap';
import {
  ConverseToOpenAIStream,
  eventFromMessage,
  prepareConverseChat,
  translateConverseEvents,
  type ConverseStreamEvent,
  type ConverseStreamOptions,
  type DecodedMessage,
} from '../../../../providers/translate/openai-converse/index.js';
import { fixtureSet } from '../../../helpers/translate-golden.js';

const fx = fixtureSet('openai-converse');
const EXCEPTIONS = /Exception$/;

/** The event as the Bedrock provider's decoder hands it over: headers and a JSON body with AWS's padding field. */
function asMessage(event: ConverseStreamEvent): DecodedMessage {
  const [name, payload] = Object.entries(event)[0];
  const exception = EXCEPTIONS.test(name);
  return {
    headers: {
      ':message-type': { type: 'string', value: exception ? 'exception' : 'event' },
      [exception ? ':exception-type' : ':event-type']: { type: 'string', value: name },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: Buffer.from(JSON.stringify({ ...(payload as object), ...(exception ? {} : { p: 'abcdefghijklmnopqrstuvwxyzABCDEF' }) })),
  };
}

t.test('event by event: whole SSE events at once, and the golden output', async (t) => {
  for (const dir of fx.cases('stream-')) {
    const options = fx.readJson<ConverseStreamOptions>(dir, 'input.json');
    const events = fx.readJson<ConverseStreamEvent[]>(dir, 'upstream.events.json');
    const direct = new ConverseToOpenAIStream(options);
    const decoded = new ConverseToOpenAIStream(options);
    const pieces: Buffer[] = [];
    for (const event of events) {
      const out = Buffer.from(direct.push(event));
      const viaMessage = Buffer.from(decoded.push(eventFromMessage(asMessage(event))!));
      t.ok(out.equals(viaMessage), `${dir}: the decoded message translates like the event`);
      t.ok(out.length === 0 || out.toString().endsWith('\n\n'), `${dir}: whole SSE events only`);
      const delta = (event as { contentBlockDelta?: { delta?: { text?: string } } }).contentBlockDelta?.delta?.text;
      if (delta && pieces.every((p) => !p.toString().includes('"error"'))) t.ok(out.toString().includes(JSON.stringify(delta).slice(1, -1)), `${dir}: text goes out with its event`);
      pieces.push(out);
    }
    pieces.push(Buffer.from(direct.end()));
    t.ok(Buffer.concat(pieces).equals(fx.readBytes(dir, 'expected.sse')), `${dir}: equals expected.sse`);
  }
});

t.test('an event-stream error message (no JSON payload) ends the stream with an error', async (t) => {
  const event = eventFromMessage({ headers: { ':message-type': { type: 'string', value: 'error' }, ':error-message': { type: 'string', value: 'boom' } }, body: new Uint8Array(0) });
  t.same(event, { internalServerException: { message: 'boom' } });
  t.equal(eventFromMessage({ headers: { ':message-type': { type: 'string', value: 'ping' } }, body: new Uint8Array(0) }), undefined);
});

t.test('prepareConverseChat: path, body, answers and the stream translator', async (t) => {
  const plan = prepareConverseChat({ model: 'anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }, { id: 'chatcmpl-x', created: 1, defaultMaxTokens: 512 });
  t.equal(plan.path, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
  t.same(JSON.parse(plan.body.toString()), { messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 512 } });
  const err = plan.answer(429, Buffer.from('{"message":"slow down"}'), { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
  t.equal(err.status, 429);
  t.same(JSON.parse(Buffer.from(err.body).toString()).error.code, 'rate_limit_exceeded');
  async function* events(): AsyncGenerator<ConverseStreamEvent> {
    yield* fx.readJson<ConverseStreamEvent[]>('stream-text', 'upstream.events.json');
  }
  const translator = plan.streamTranslator();
  const chunks: Uint8Array[] = [];
  for await (const c of translateConverseEvents(events(), translator)) chunks.push(c);
  const sse = Buffer.concat(chunks).toString();
  t.match(sse, /"content":"Grüezi"/);
  t.match(sse, /"choices":\[\],"usage":\{"prompt_tokens":25,"completion_tokens":9/);
  t.ok(sse.endsWith('data: [DONE]\n\n'));
  t.same(translator.meter().usage, { inputTokens: 25, outputTokens: 9, cacheCreationTokens: 0, cacheReadTokens: 0 });
  const whole = prepareConverseChat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { id: 'chatcmpl-y', created: 2 });
  t.equal(whole.path, '/model/m/converse');
  const ok = whole.answer(200, Buffer.from(JSON.stringify(fx.readJson('response-tool-use', 'input.json'))), {});
  t.equal(JSON.parse(Buffer.from(ok.body).toString()).choices[0].finish_reason, 'tool_calls');
  t.same(ok.usage, { inputTokens: 310, outputTokens: 54, cacheCreationTokens: 0, cacheReadTokens: 0 });
});
