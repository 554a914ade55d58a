/**
 * The Responses API meters: a `response` object's usage (cached reads kept apart, reasoning
 * already inside the output) and the typed event stream, whose terminal event carries the
 * usage — read the same however the bytes are split, and a stream without one is a stream
 * error. Events and objects as OpenAI's API reference shows them.
 */
import t from 'tap';
import { responsesJsonMeter, responsesMeter, ResponsesStreamMeter } from '../../../providers/openai/responses-usage.js';
import { mulberry32 } from '../../helpers/prng.js';

const usage = { input_tokens: 1500, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 342, output_tokens_details: { reasoning_tokens: 300 }, total_tokens: 1842 };
const counted = { inputTokens: 476, outputTokens: 342, cacheCreationTokens: 0, cacheReadTokens: 1024 };
const text = 'Un café — "usage": {"input_tokens": 999} ✓';
const message = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };

function response(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1741476542,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: 'Be brief "model": "decoy"',
    max_output_tokens: 400,
    model: 'o4-mini-2025-04-16',
    output: status === 'in_progress' ? [] : [{ id: 'rs_1', type: 'reasoning', summary: [] }, message],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: 'medium', summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: status === 'in_progress' ? null : usage,
    user: null,
    metadata: {},
    ...extra,
  };
}

function event(type: string, body: Record<string, unknown>, seq: number, named = true): string {
  const data = JSON.stringify({ type, sequence_number: seq, ...body });
  return named ? `event: ${type}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** The events OpenAI sends for one streamed answer, up to (not including) its terminal event. */
function opening(named = true): string[] {
  const at = { item_id: 'msg_1', output_index: 1, content_index: 0 };
  const events: Array<[string, Record<string, unknown>]> = [
    ['response.created', { response: response('in_progress') }],
    ['response.in_progress', { response: response('in_progress') }],
    ['response.output_item.added', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }],
    ['response.output_item.done', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }],
    ['response.output_item.added', { output_index: 1, item: { ...message, status: 'in_progress', content: [] } }],
    ['response.content_part.added', { ...at, part: { type: 'output_text', annotations: [], text: '' } }],
    ...text.split(/(?<= )/).map((delta): [string, Record<string, unknown>] => ['response.output_text.delta', { ...at, delta, logprobs: [] }]),
    ['response.output_text.done', { ...at, text, logprobs: [] }],
    ['response.content_part.done', { ...at, part: { type: 'output_text', annotations: [], text } }],
    ['response.output_item.done', { output_index: 1, item: message }],
  ];
  return events.map(([type, body], i) => event(type, body, i, named));
}

function streamOf(terminal: string | undefined, response: Record<string, unknown> | undefined, named = true): string {
  const events = opening(named);
  if (terminal) events.push(event(terminal, { response }, events.length, named));
  return events.join('');
}

function readStream(body: string | Buffer, cuts: number[] = []): ResponsesStreamMeter {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const m = new ResponsesStreamMeter();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    m.write(bytes.subarray(from, cut));
    from = cut;
  }
  m.end();
  return m;
}

function readJson(body: string): { usage: unknown; model: string | undefined; streamError: string | undefined } {
  const m = responsesJsonMeter();
  const bytes = Buffer.from(body);
  m.write(bytes.subarray(0, 17));
  m.write(bytes.subarray(17));
  m.end();
  return { usage: { ...m.usage }, model: m.model, streamError: m.streamError };
}

t.test('a response object: cached reads apart, reasoning inside the output, its model', async (t) => {
  t.same(readJson(JSON.stringify(response('completed'))), { usage: counted, model: 'o4-mini-2025-04-16', streamError: undefined });
  t.same(readJson(JSON.stringify(response('completed'), null, 2)).usage, counted, 'pretty-printed');
  const incomplete = response('incomplete', { incomplete_details: { reason: 'max_output_tokens' }, usage: { ...usage, output_tokens: 400 } });
  t.same(readJson(JSON.stringify(incomplete)).usage, { ...counted, outputTokens: 400 }, 'cut at max_output_tokens: what was made is counted');
  const noDetails = response('completed', { usage: { input_tokens: 12, output_tokens: 3, total_tokens: 15 } });
  t.same(readJson(JSON.stringify(noDetails)).usage, { inputTokens: 12, outputTokens: 3, cacheCreationTokens: 0, cacheReadTokens: 0 }, 'without the details');
  const error = { error: { message: 'Invalid model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } };
  t.same(readJson(JSON.stringify(error)), { usage: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }, model: undefined, streamError: undefined }, 'an error answer counts nothing');
  t.same(readJson('not json').usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
});

t.test('a stream: the usage and model of response.completed', async (t) => {
  const m = readStream(streamOf('response.completed', response('completed')));
  t.same({ ...m.usage }, counted);
  t.equal(m.model, 'o4-mini-2025-04-16');
  t.equal(m.streamError, undefined);
});

t.test('the model of response.created stands until the terminal event names one', async (t) => {
  const m = readStream(streamOf(undefined, undefined));
  t.equal(m.model, 'o4-mini-2025-04-16');
  const renamed = readStream(streamOf('response.completed', response('completed', { model: 'o4-mini-later' })));
  t.equal(renamed.model, 'o4-mini-later');
});

t.test('response.incomplete is an answer cut by its cap: counted, no error', async (t) => {
  const m = readStream(streamOf('response.incomplete', response('incomplete', { incomplete_details: { reason: 'max_output_tokens' } })));
  t.same({ ...m.usage }, counted);
  t.equal(m.streamError, undefined);
});

t.test('response.failed is a stream error, with what it counted', async (t) => {
  const m = readStream(streamOf('response.failed', response('failed', { error: { code: 'server_error', message: 'The model failed to generate a response.' } })));
  t.equal(m.streamError, 'server_error: The model failed to generate a response.');
  t.same({ ...m.usage }, counted);
  const nothing = readStream(streamOf('response.failed', response('failed', { error: { code: 'rate_limit_exceeded', message: 'slow down' }, usage: null })));
  t.equal(nothing.streamError, 'rate_limit_exceeded: slow down');
  t.equal(nothing.usage.inputTokens, 0);
});

t.test('an error event is a stream error', async (t) => {
  const body = opening().slice(0, 3).join('') + event('error', { code: 'ERR_SOMETHING', message: 'Something went wrong', param: null }, 3);
  t.equal(readStream(body).streamError, 'ERR_SOMETHING: Something went wrong');
  const nested = opening().slice(0, 3).join('') + 'event: error\ndata: {"type":"error","error":{"type":"server_error","code":null,"message":"boom"}}\n\n';
  t.equal(readStream(nested).streamError, 'server_error: boom', 'the error object some services nest');
});

t.test('a stream that ends without its terminal event is a stream error', async (t) => {
  const m = readStream(streamOf(undefined, undefined));
  t.equal(m.streamError, 'stream ended before response.completed');
  t.equal(m.usage.outputTokens, 0);
  t.equal(readStream('').streamError, 'stream ended before response.completed', 'an empty 200 stream too');
  const half = streamOf('response.completed', response('completed'));
  t.equal(readStream(half.slice(0, half.length - 40)).streamError, 'stream ended before response.completed', 'cut inside the last event');
});

t.test('events without `event:` lines are read by their type', async (t) => {
  const m = readStream(streamOf('response.completed', response('completed'), false));
  t.same({ ...m.usage }, counted);
  t.equal(m.model, 'o4-mini-2025-04-16');
  t.equal(m.streamError, undefined);
  t.equal(readStream(streamOf(undefined, undefined, false)).streamError, 'stream ended before response.completed');
});

t.test('CRLF line ends', async (t) => {
  const m = readStream(streamOf('response.completed', response('completed')).replace(/\n/g, '\r\n'));
  t.same({ ...m.usage }, counted);
});

t.test('split at random byte offsets, mid-UTF-8 included, the stream reads the same', async (t) => {
  const bytes = Buffer.from(streamOf('response.completed', response('completed')));
  const rand = mulberry32(36);
  for (let i = 0; i < 300; i++) {
    const cuts = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * bytes.length)).sort((a, b) => a - b);
    const m = readStream(bytes, cuts);
    if (JSON.stringify({ ...m.usage }) !== JSON.stringify(counted) || m.model !== 'o4-mini-2025-04-16' || m.streamError !== undefined) {
      t.fail(`cuts ${cuts.join(',')}: ${JSON.stringify({ usage: m.usage, model: m.model, streamError: m.streamError })}`);
      return;
    }
  }
  t.pass('300 splits');
});

t.test('the meter by content type', async (t) => {
  t.type(responsesMeter('text/event-stream; charset=utf-8'), ResponsesStreamMeter);
  t.ok(responsesMeter('application/json'));
  t.equal(responsesMeter('text/plain'), undefined);
});
