/**
 * A Responses API stream cut before its terminal event is charged a token a delta, or the
 * deltas' text over four where that is more: text, reasoning summary and function-call
 * argument deltas count their text, whether the SSE decoder passes them over undecoded
 * (one or several whole deltas to a chunk) or delivers them (a chunk mixed with other
 * events, a service that names no events); audio deltas (base64) stay a token each.
 */
import t from 'tap';
import { ResponsesStreamMeter } from '../../../providers/openai/responses-usage.js';

const at = { item_id: 'msg_68a1f0c2d3e4b5a697b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2', output_index: 0, content_index: 0 };
const data = (type: string, body: Record<string, unknown>, seq: number): string => JSON.stringify({ type, sequence_number: seq, ...body });
const named = (type: string, body: Record<string, unknown>, seq = 1): string => `event: ${type}\ndata: ${data(type, body, seq)}\n\n`;
const created = named('response.created', { response: { id: 'resp_1', object: 'response', status: 'in_progress', model: 'gpt-4o', output: [], usage: null } }, 0);

function meter(chunks: string[]): ResponsesStreamMeter {
  const m = new ResponsesStreamMeter();
  for (const c of [created, ...chunks]) m.write(Buffer.from(c));
  m.end();
  return m;
}

const text400 = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);

t.test('10 text deltas of 400 characters, one to a chunk: about 1,000 tokens, not 10', async (t) => {
  const m = meter(Array.from({ length: 10 }, (_, i) => named('response.output_text.delta', { ...at, delta: text400, logprobs: [], obfuscation: 'pad' }, i + 1)));
  t.equal(m.usageFinal, false);
  t.match(m.streamError, /before response\.completed/);
  t.equal(m.estimatedOutputTokens, 1000);
});

t.test('several deltas to a chunk, and deltas in a chunk with other events, count alike', async (t) => {
  const five = Array.from({ length: 5 }, (_, i) => named('response.output_text.delta', { ...at, delta: text400 }, i + 1)).join('');
  const mixed = named('response.content_part.added', { ...at, part: { type: 'output_text', text: '' } }) + five;
  t.equal(meter([five, five]).estimatedOutputTokens, 1000, 'skipped undecoded');
  t.equal(meter([mixed, mixed]).estimatedOutputTokens, 1000, 'decoded and read');
});

t.test('deltas whose envelopes differ in length (ids, sequence numbers, members) are each measured', async (t) => {
  const texts = Array.from({ length: 12 }, (_, i) => 'y'.repeat(100 + 37 * i));
  const events = texts.map((delta, i) =>
    i % 3 === 2
      ? named('response.output_text.delta', { delta, item_id: 'msg_2', output_index: 1, content_index: 0 }, 9 + i)
      : named('response.output_text.delta', { ...at, item_id: `msg_${'z'.repeat(i)}`, delta, logprobs: [] }, 8 + i * 11),
  );
  const total = texts.reduce((n, s) => n + s.length, 0);
  t.equal(meter(events).estimatedOutputTokens, Math.ceil(total / 4), 'one to a chunk');
  t.equal(meter([events.join('')]).estimatedOutputTokens, Math.ceil(total / 4), 'all in one chunk');
  // An event shorter than where the last one's key was, and the next one's key exactly there.
  const keyOffset = (e: string): number => e.indexOf('"delta":"');
  const short = named('response.output_text.delta', { delta: 'q'.repeat(40) });
  const next = named('response.output_text.delta', { item_id: 'msg_3', delta: 'w'.repeat(80) });
  const withId = (id: string): string => named('response.output_text.delta', { item_id: id, delta: 'e'.repeat(60) });
  const first = withId('m'.repeat(short.length + keyOffset(next) - keyOffset(withId(''))));
  t.equal(keyOffset(first), short.length + keyOffset(next));
  t.equal(meter([first, short + next]).estimatedOutputTokens, Math.ceil((60 + 40 + 80) / 4), 'a short event is measured on its own');
});

t.test('reasoning summary and function-call argument deltas count their text; escapes as written', async (t) => {
  const args = JSON.stringify({ query: 'say "hi"\n'.repeat(40) });
  const written = JSON.stringify(args).length - 2;
  const m = meter([
    named('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'r'.repeat(800) }),
    named('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 1, delta: args }),
  ]);
  t.equal(m.estimatedOutputTokens, Math.ceil((800 + written) / 4));
});

t.test('a service that names no events: read by type, counted the same', async (t) => {
  const m = new ResponsesStreamMeter();
  for (let i = 0; i < 10; i++) m.write(Buffer.from(`data: ${data('response.output_text.delta', { ...at, delta: text400 }, i)}\n\n`));
  m.end();
  t.equal(m.estimatedOutputTokens, 1000);
});

t.test('short deltas stay a token each; audio deltas are not text', async (t) => {
  t.equal(meter([...'abcdefgh'].map((c) => named('response.output_text.delta', { ...at, delta: c }))).estimatedOutputTokens, 8);
  const audio = named('response.audio.delta', { response_id: 'resp_1', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'QUJD'.repeat(500) });
  t.equal(meter([audio, audio, audio + audio]).estimatedOutputTokens, 4, 'skipped: a token a delta');
  t.equal(meter([named('response.in_progress', { response: { model: 'gpt-4o' } }) + audio]).estimatedOutputTokens, 1, 'read: a token a delta');
});
