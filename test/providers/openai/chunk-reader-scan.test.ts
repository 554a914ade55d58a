/**
 * `ChunkReader` reads a chat chunk in one pass over its keys: the generated text it counts
 * for a cut stream's estimate, and whether a `usage` or `error` key asks for a parse. What
 * such a pass could get wrong: a string's end behind escapes, key look-alikes inside
 * generated text or a tool's arguments, and whitespace JSON allows before a colon.
 */
import t from 'tap';
import { ChunkReader } from '../../../providers/openai/usage.js';

/** A chunk's data around a raw (already escaped) `delta` body; checked to be JSON. */
function chunkData(delta: string, tail = ',"usage":null'): string {
  const data = `{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":{${delta}},"finish_reason":null}]${tail}}`;
  JSON.parse(data);
  return data;
}

/** A reader that has read a first chunk (so it knows the model and parses only what looks new). */
function started(): ChunkReader {
  const r = new ChunkReader();
  r.read(chunkData('"role":"assistant","content":""'));
  return r;
}

/** Generated characters counted, from the estimate: long enough text that chars / 4 beats one token a chunk. */
const estimateOf = (chars: number): number => Math.ceil(chars / 4);

t.test('escaped quotes, backslashes and \\u escapes: the text ends at its real closing quote', async (t) => {
  // Written as on the wire: `\"` and `\\` and `\u0022` inside the string, a `\\` right before its end.
  const text = String.raw`He said \"usage\": {\"prompt_tokens\": 9}, \u0022error\u0022: x: y, path C:\\dir\\`.repeat(8);
  const r = started();
  t.equal(r.read(chunkData(`"content":"${text}"`, ',"usage":{"prompt_tokens":7,"completion_tokens":3}')), false);
  t.match(r.usage, { inputTokens: 7, outputTokens: 3 }, 'the usage after the text is read');
  t.equal(r.usageFinal, true);
  t.equal(r.estimatedOutputTokens, estimateOf(text.length), 'escapes count as written');
});

t.test('"usage" and "error" inside generated text ask for nothing', async (t) => {
  const text = String.raw`{\"usage\":{\"prompt_tokens\":5},\"error\":{\"type\":\"x\",\"message\":\"y\"}} `.repeat(6);
  const r = started();
  r.read(chunkData(`"content":"${text}"`));
  t.equal(r.usageFinal, false);
  t.same(r.usage, new ChunkReader().usage, 'no usage');
  t.equal(r.streamError, undefined, 'no error');
  t.equal(r.estimatedOutputTokens, estimateOf(text.length));
});

t.test("an error key inside a tool's arguments is the tool's, not the stream's", async (t) => {
  const args = String.raw`{\"error\": \"not found\", \"usage\": {\"prompt_tokens\": 1}, \"note\": \"a:b\"}`.repeat(4);
  const r = started();
  r.read(chunkData(`"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"${args}"}}]`));
  t.equal(r.streamError, undefined);
  t.equal(r.usageFinal, false);
  t.equal(r.estimatedOutputTokens, estimateOf(args.length), 'the arguments count, the id and name do not');
});

t.test('the stream error and usage keys are found with whitespace before their colon', async (t) => {
  const r = started();
  r.read(chunkData('"content":"a"', ',"usage" :\n{"prompt_tokens":4,"completion_tokens":2}'));
  t.match(r.usage, { inputTokens: 4, outputTokens: 2 });
  const e = started();
  e.read('{"error"\t: {"type":"server_error","message":"overloaded"}}');
  t.equal(e.streamError, 'server_error: overloaded');
  const n = started();
  n.read(chunkData('"content":"a"', ',"usage": null'));
  t.equal(n.usageFinal, false, '"usage": null reports nothing');
});

t.test('reasoning, refusal and legacy text count; roles, ids and the obfuscation pad do not', async (t) => {
  const words = 'x'.repeat(40);
  const r = started();
  r.read(chunkData(`"reasoning_content":"${words}","reasoning":"${words}","refusal":"${words}"`, `,"usage":null,"obfuscation":"${'p'.repeat(400)}"`));
  r.read(`{"id":"cmpl-1","object":"text_completion","model":"gpt-x","choices":[{"text":"${words}","index":0}]}`);
  t.equal(r.estimatedOutputTokens, estimateOf(4 * words.length));
});

t.test('an error chunk without choices counts no text and is read', async (t) => {
  const r = started();
  r.read('{"error":{"type":"invalid_request_error","message":"content: \\"x\\""}}');
  t.equal(r.streamError, 'invalid_request_error: content: "x"');
  t.equal(r.estimatedOutputTokens, 2, 'a token a chunk');
});
