/**
 * The usage-chunk filter reads an event of one line (the usual `data: {…}`) straight from
 * its bytes and splits only the others. What that shortcut could get wrong: events of
 * several lines (an event name, an id, data split over lines), a lone CR ending a line,
 * CR and CRLF framing, a bare `data:`, and an event whose lines arrive in separate writes.
 */
import t, { type Test } from 'tap';
import { UsageChunkFilter } from '../../../providers/openai/usage-filter.js';

const usageJson = JSON.stringify({ id: 'c', model: 'gpt-4o', choices: [], usage: { prompt_tokens: 100, completion_tokens: 7 } });
const content = `data: ${JSON.stringify({ id: 'c', model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'Héllo ✓' } }], usage: null })}\n\n`;

interface Outcome {
  out: string;
  outputTokens: number;
}

/** The filter's output and the usage it read, the input written in `parts`. */
function run(parts: Buffer[]): Outcome {
  const filter = new UsageChunkFilter();
  const out = Buffer.concat([...parts.map((p) => filter.write(p)), filter.end()]).toString('utf8');
  return { out, outputTokens: filter.meter().usage.outputTokens };
}

/** Whole, a byte a write, and cut in two at every byte: the same outcome each time. */
function checkSplits(t: Test, input: string, want: Outcome): void {
  const bytes = Buffer.from(input);
  t.same(run([bytes]), want, 'whole');
  t.same(run([...bytes].map((b) => Buffer.from([b]))), want, 'a byte a write');
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = run([bytes.subarray(0, cut), bytes.subarray(cut)]);
    if (got.out !== want.out || got.outputTokens !== want.outputTokens) return void t.fail(`cut at ${cut}: ${JSON.stringify(got)}`);
  }
  t.pass('every cut in two');
}

const dropped = (kept: string): Outcome => ({ out: kept, outputTokens: 7 });
const passed = (all: string): Outcome => ({ out: all, outputTokens: 0 });

t.test('an event name or an id before the usage data: still the usage chunk, dropped', async (t) => {
  checkSplits(t, `${content}event: chunk\ndata: ${usageJson}\n\ndata: [DONE]\n\n`, dropped(`${content}data: [DONE]\n\n`));
  checkSplits(t, `${content}id: 7\ndata: ${usageJson}\n\n`, dropped(content));
});

t.test('usage data split over two data lines is joined by a line feed and dropped', async (t) => {
  const at = usageJson.indexOf(',"choices"');
  const [head, tail] = [usageJson.slice(0, at), usageJson.slice(at)];
  checkSplits(t, `${content}data: ${head}\ndata:${tail}\n\n`, dropped(content));
});

t.test('a lone CR ends the data line: what follows it is another line, not data', async (t) => {
  checkSplits(t, `${content}data: ${usageJson}\rretry: 10\n\n`, dropped(content));
  // Without the CR ending the line, the data would be the JSON and more: no usage chunk.
  const glued = `${content}data: ${usageJson}retry: 10\n\n`;
  checkSplits(t, glued, passed(glued));
});

t.test('CR and CRLF framing', async (t) => {
  const cr = `${content}data: ${usageJson}\r\r`.replace(/\n/g, '\r');
  checkSplits(t, `${cr}data: [DONE]\r\r`, dropped(`${content.replace(/\n/g, '\r')}data: [DONE]\r\r`));
  const crlf = `${content}data: ${usageJson}\n\ndata: [DONE]\n\n`.replace(/\n/g, '\r\n');
  // The blank line's LF goes out with the event after it: the dropped event leaves its own.
  const got = run([Buffer.from(crlf)]);
  t.equal(got.outputTokens, 7);
  t.equal(got.out.replace(/\r\n/g, '\n').replace(/^\n/gm, ''), `${content}data: [DONE]\n\n`.replace(/^\n/gm, ''));
  checkSplits(t, crlf, got);
});

t.test('data without a space, a bare data line, a comment: read as before', async (t) => {
  checkSplits(t, `${content}data:${usageJson}\n\n`, dropped(content));
  const odd = `data:\n\n: keep-alive\n\ndata\n\n${content}`;
  checkSplits(t, odd, passed(odd));
});

t.test('the usage chunk at the end without its blank line', async (t) => {
  checkSplits(t, `${content}data: ${usageJson}\n`, dropped(content));
  checkSplits(t, `${content}event: chunk\ndata: ${usageJson}`, dropped(content));
});
