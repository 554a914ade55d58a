/**
 * `resilience.max_connections` caps the provider's pool: concurrent requests beyond it
 * wait for a connection (none fails), and the upstream never sees more at once.
 */
import t from 'tap';
import { anthropicEntry, send, startMocks, startResilient } from '../../helpers/resilience.js';

const FIVE = Array.from({ length: 5 });

t.test('max_connections: 2 — five concurrent streams reach the upstream two at a time, all whole', async (t) => {
  const [mock] = await startMocks(t, 'capped');
  mock.fallback = { kind: 'ok', eventDelayMs: 40 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, '    resilience:\n      max_connections: 2')]);
  const answers = await Promise.all(FIVE.map(() => send(`${gw.url}/v1/claude/v1/messages`, { stream: true })));
  for (const a of answers) {
    t.equal(a.status, 200);
    t.match(a.text, /event: message_stop/, 'a whole stream');
  }
  t.equal(mock.hits, 5);
  t.equal(mock.peak, 2, 'never more than two upstream requests at once');
});

t.test('without it, the same five run upstream at once', async (t) => {
  const [mock] = await startMocks(t, 'uncapped');
  mock.fallback = { kind: 'ok', eventDelayMs: 40 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url)]);
  const answers = await Promise.all(FIVE.map(() => send(`${gw.url}/v1/claude/v1/messages`, { stream: true })));
  t.same(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
  t.equal(mock.peak, 5);
});

t.test('max_connections must be a positive integer', async (t) => {
  const [mock] = await startMocks(t, 'bad');
  await t.rejects(startResilient(t, [anthropicEntry('anthropic', mock.url, '    resilience:\n      max_connections: 0')]), /max_connections/);
});
