/**
 * A cut Conversations stream is charged its deltas' text over four where that is more; the
 * text is counted by `generatedChars`, which walks a delta's colons. What such a walk could
 * get wrong: colons inside values (a timestamp, the text itself), a string's end behind
 * escapes, key look-alikes inside other strings, and a `content` that is not a string.
 */
import t from 'tap';
import { ConversationStreamMeter } from '../../../providers/openai/conversations-usage.js';
import { generatedChars } from '../../../providers/openai/usage.js';

/** A delta event's data around a raw (already escaped) `content` value, checked to be JSON. */
function deltaData(content: string, id = 'msg_1'): string {
  const data = `{"type":"message.output.delta","created_at":"2026-12-01T10:40:45.123Z","output_index":0,"id":${JSON.stringify(id)},"content_index":0,"model":"mistral-medium-2505","agent_id":null,"role":"assistant","content":${content}}`;
  JSON.parse(data);
  return data;
}

/** What a meter that read `datas` as delta events, then was cut, charges for output. */
function estimate(datas: string[]): number {
  const m = new ConversationStreamMeter();
  for (const data of datas) m.write(Buffer.from(`event: message.output.delta\ndata: ${data}\n\n`));
  m.end();
  return m.estimatedOutputTokens;
}

t.test('colons in the timestamp and the text, escapes: the text counts as written', async (t) => {
  const text = String.raw`At 10:40: he said \"content\":\"no\", path C:\\dir\\ ok`.repeat(8);
  t.equal(generatedChars(deltaData(`"${text}"`), 0), text.length);
  t.equal(estimate([deltaData(`"${text}"`), deltaData(`"${text}"`)]), Math.ceil((2 * text.length) / 4));
});

t.test('a look-alike key inside another string is not text', async (t) => {
  // The id holds `":"content":"` as written: escaped quotes, so no key.
  const id = '":"content":"' + 'x'.repeat(200);
  t.equal(generatedChars(deltaData('"hi"', id), 0), 2);
  t.equal(estimate([deltaData('"hi"', id)]), 1, 'a token a delta');
});

t.test('a string that ends in an escaped backslash ends at its quote', async (t) => {
  const text = String.raw`ends in a backslash \\`.repeat(10);
  t.equal(generatedChars(deltaData(`"${text}"`), 0), text.length);
});

t.test('content that is not a string, or empty, counts nothing', async (t) => {
  t.equal(generatedChars(deltaData('[{"type":"tool_reference","title":"x:y"}]'), 0), 0);
  t.equal(generatedChars(deltaData('null'), 0), 0);
  t.equal(generatedChars(deltaData('""'), 0), 0);
});

t.test('malformed data: a text that a colon follows opens no key', async (t) => {
  // Not JSON: the quote closing the first text is not also the start of a key.
  t.equal(generatedChars('{"content":"text":"xyz"}', 0), 4);
  t.equal(generatedChars('{"content":"ab":"text":"xyz"}', 0), 2 + 3);
  t.equal(generatedChars('{"content":"never closed', 0), 0);
});
