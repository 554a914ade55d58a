import http from 'node:http';
import t from 'tap';
import { SseDecoder } from '../../../core/index.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { messagesBody, startAnthropic } from '../../helpers/anthropic.js';

interface StreamRead {
  res: http.IncomingMessage;
  req: http.ClientRequest;
  /** performance.now() of each event's arrival at the client. */
  events: Array<{ name: string; at: number }>;
  /** Resolves when the n-th event (1-based) has arrived. */
  nth(n: number): Promise<void>;
  done: Promise<void>;
}

/** Post a streamed Messages request and time each SSE event as the client receives it. */
function stream(url: string, body: string): Promise<StreamRead> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const events: StreamRead['events'] = [];
      const waiters: Array<[number, () => void]> = [];
      const decoder = new SseDecoder((name) => {
        events.push({ name, at: performance.now() });
        for (const w of waiters.filter(([n]) => n <= events.length)) w[1]();
      });
      res.on('data', (c: Buffer) => decoder.push(c));
      const done = new Promise<void>((r) => res.on('close', () => r()));
      resolve({
        res,
        req,
        events,
        done,
        nth: (n) => (events.length >= n ? Promise.resolve() : new Promise((r) => waiters.push([n, r]))),
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('events spaced 300 ms apart upstream arrive spaced at the client, not in one piece', async (t) => {
  const { mock, base } = await startAnthropic(t, { mock: { eventDelayMs: 300 } });
  mock.text = 'One two';
  const started = performance.now();
  const s = await stream(`${base}/v1/messages`, messagesBody({ stream: true }));
  await s.done;
  const { events } = s;
  t.equal(events.length, 9, 'every event arrived');
  t.equal(events[0].name, 'message_start');
  t.equal(events.at(-1)?.name, 'message_stop');
  const gaps = events.slice(1).map((e, i) => e.at - events[i].at);
  const spread = events.at(-1)!.at - events[0].at;
  t.comment(`arrival gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')}; first event after ${(events[0].at - started).toFixed(0)} ms`);
  t.ok(spread >= 0.6 * 8 * 300, `events spread over ${spread.toFixed(0)} ms (upstream spread 2400 ms)`);
  t.ok(gaps.filter((g) => g >= 150).length >= 6, 'most events arrive on their own, ≥150 ms after the one before');
  t.ok(events[0].at - started < 1500, 'the first event is not held back until the end');
});

t.test('a client abort cancels the upstream request at once', async (t) => {
  const { mock, base } = await startAnthropic(t);
  mock.hold = true;
  const s = await stream(`${base}/v1/messages`, messagesBody({ stream: true }));
  await s.nth(1);
  t.equal(s.events[0].name, 'message_start', 'the stream began');
  const upstream = mock.last!;
  t.notOk(upstream.closedAt, 'the upstream request is open');
  const abortedAt = performance.now();
  s.req.destroy();
  await Promise.race([upstream.closed, new Promise((r) => setTimeout(r, 3000))]);
  t.ok(upstream.closedAt, 'the mock saw its connection close');
  const lag = (upstream.closedAt ?? Infinity) - abortedAt;
  t.comment(`upstream closed ${lag.toFixed(1)} ms after the client went away`);
  t.ok(lag < 1000, 'within a second');
  const { outcome } = await outcomeFor(s.res.headers['x-request-id'] as string);
  t.equal(outcome.status, 499, 'outcome says the client went away');
  t.equal(outcome.error?.kind, 'client_abort');
  t.equal(outcome.usage.inputTokens, 1234, 'tokens seen before the abort are kept');
});

t.test('a client abort while waiting for the response head cancels the upstream request too', async (t) => {
  const { mock, base } = await startAnthropic(t);
  mock.hold = true;
  const u = new URL(`${base}/v1/messages`);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, agent: false });
  req.on('error', () => {});
  req.end(messagesBody());
  while (mock.requests.length === 0 || mock.last!.body.length === 0) await new Promise((r) => setTimeout(r, 10));
  const upstream = mock.last!;
  const abortedAt = performance.now();
  req.destroy();
  await Promise.race([upstream.closed, new Promise((r) => setTimeout(r, 3000))]);
  const lag = (upstream.closedAt ?? Infinity) - abortedAt;
  t.comment(`upstream closed ${lag.toFixed(1)} ms after the client went away`);
  t.ok(lag < 1000, 'upstream connection closed within a second');
});
