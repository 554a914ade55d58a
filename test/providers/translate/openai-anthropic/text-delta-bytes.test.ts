/**
 * Text deltas wrapped as bytes: `textDeltaSpans` accepts only chunks made wholly of text
 * deltas in Anthropic's compact form with plain ASCII text, and the translator's output for
 * chunks cut at event boundaries (where that path runs) is byte for byte the string path's.
 */
import t from 'tap';
import { AnthropicToOpenAIStream, type StreamTranslationOptions } from '../../../../providers/translate/openai-anthropic/index.js';
import { textDeltaSpans } from '../../../../providers/translate/openai-anthropic/text-delta.js';
import { cases, readBytes, readJson } from '../../../helpers/translate-golden.js';

const delta = (text: string, index = 0): string => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } })}\n\n`;
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const texts = (chunk: Buffer, spans: number[] | undefined): string[] | undefined => spans && Array.from({ length: spans.length / 2 }, (_, i) => chunk.toString('latin1', spans[2 * i], spans[2 * i + 1]));

t.test('finds the text of every event of a chunk of plain text deltas', async (t) => {
  const one = bytes(delta('Hello, world'));
  t.same(texts(one, textDeltaSpans(one)), ['Hello, world']);
  const three = bytes(delta('a') + delta(' b c', 1) + delta('', 12));
  t.same(texts(three, textDeltaSpans(three)), ['a', ' b c', ''], 'several events, any index, an empty text');
  const braces = bytes(delta('{type: x} }}'));
  t.same(texts(braces, textDeltaSpans(braces)), ['{type: x} }}'], 'braces in the text');
});

t.test('leaves everything else to the string path', async (t) => {
  const cases: Array<[string, string]> = [
    ['an escaped quote', delta('say "hi"')],
    ['a backslash', delta('a\\b')],
    ['a newline (escaped)', delta('a\nb')],
    ['text outside ASCII', delta('héllo')],
    ['a raw control byte', delta('x').replace('"x"', '"a\u0001b"')],
    ['another event', `event: ping\ndata: {"type":"ping"}\n\n`],
    ['a text delta after a ping', `event: ping\ndata: {"type":"ping"}\n\n${delta('x')}`],
    ['a ping after a text delta', `${delta('x')}event: ping\ndata: {"type":"ping"}\n\n`],
    ['no event line', delta('x').slice('event: content_block_delta\n'.length)],
    ['CRLF', delta('x').replace(/\n/g, '\r\n')],
    ['spaces in the JSON', 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}\n\n'],
    ['a partial event', delta('x').slice(0, -1)],
    ['an event and a partial one', delta('x') + delta('y').slice(0, 30)],
    ['no index digits', delta('x').replace('"index":0', '"index":')],
    ['keys after the text', delta('x').replace('"text":"x"}', '"text":"x","extra":1}')],
    ['empty', ''],
  ];
  for (const [name, chunk] of cases) t.equal(textDeltaSpans(bytes(chunk)), undefined, name);
});

function translate(options: StreamTranslationOptions, pieces: Uint8Array[]): Buffer {
  const tr = new AnthropicToOpenAIStream(options);
  const out = pieces.map((p) => tr.write(p));
  out.push(tr.end());
  return Buffer.concat(out);
}

/** The stream cut after every event, then into runs of 1–3 events. */
function byEvents(upstream: Buffer, run: number): Buffer[] {
  const text = upstream.toString('latin1');
  const ends: number[] = [];
  for (let at = text.indexOf('\n\n'); at >= 0; at = text.indexOf('\n\n', at + 2)) ends.push(at + 2);
  const pieces: Buffer[] = [];
  let from = 0;
  for (let i = run - 1; i < ends.length; i += run) {
    pieces.push(upstream.subarray(from, ends[i]));
    from = ends[i];
  }
  if (from < upstream.length) pieces.push(upstream.subarray(from));
  return pieces;
}

t.test('chunks cut at event boundaries translate to the one-piece output', async (t) => {
  let wrapped = 0;
  for (const dir of cases('stream-')) {
    const options = readJson<StreamTranslationOptions>(dir, 'input.json');
    const upstream = readBytes(dir, 'upstream.sse');
    const whole = translate(options, [upstream]);
    for (const run of [1, 2, 3]) {
      const pieces = byEvents(upstream, run);
      wrapped += pieces.filter((p) => textDeltaSpans(p)).length;
      t.ok(translate(options, pieces).equals(whole), `${dir}: runs of ${run} event(s)`);
    }
  }
  t.ok(wrapped >= 5, `the byte path ran (${wrapped} chunks)`);
});

t.test('a synthetic stream: text deltas wrapped as bytes among events that are not', async (t) => {
  const sse = (data: { type: string }): string => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const upstream = Buffer.from(
    sse({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'claude-x', content: [], usage: { input_tokens: 3, output_tokens: 1 } } } as { type: string }) +
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as { type: string }) +
      delta('plain ') + delta('héllo ') + delta('a "q" ') + delta('tail') +
      sse({ type: 'content_block_stop', index: 0 } as { type: string }) +
      sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } } as { type: string }) +
      sse({ type: 'message_stop' }),
  );
  for (const includeUsage of [false, true]) {
    const options = { id: 'chatcmpl-1', created: 1700000000, includeUsage };
    const whole = translate(options, [upstream]);
    t.ok(translate(options, byEvents(upstream, 1)).equals(whole), `include_usage ${includeUsage}: event by event`);
    t.match(whole.toString(), /"delta":\{"content":"plain "\}/);
  }
});
