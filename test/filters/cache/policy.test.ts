/**
 * The cache keys the body as the client sent it, before the filters after it (the
 * validator) have had their say. An answer to a body a later filter rewrote — a
 * `max_tokens` clamped for one user — is not the answer to the body the key names, so it
 * is not stored. Before, in `shared` scope, a user the validator clamped to 100 tokens left
 * a 100-token answer under the key of the 4000 tokens asked for, and the next user (with
 * no such limit) was served it.
 */
import t from 'tap';
import { ask, startCache, upstreamCalls, type CacheSetup } from './setup.js';
import { CANNED_FILTER_PATH, CANNED_TEXT } from './canned-filter.js';

const sentCap = (s: CacheSetup): unknown => (JSON.parse(s.mock.last!.body.toString('utf8')) as { max_tokens?: unknown }).max_tokens;

const CLAMPED = { name: 'validator', config: { users: { alice: { max_tokens: 100, max_tokens_action: 'clamp' } } } };

t.test("shared scope: an answer to a clamped body is not served to a user whose cap was not clamped", async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared' }, after: [CLAMPED] });
  const body = { max_tokens: 4000 };
  const alice = await ask(s, { user: 'alice', body });
  t.equal(alice.status, 200, alice.text);
  t.equal(alice.headers.get('x-gateway-max-tokens-clamped'), '4000->100');
  t.equal(sentCap(s), 100, 'alice was forwarded the clamped body');
  const bob = await ask(s, { user: 'bob', body });
  t.equal(bob.headers.get('x-cache'), 'MISS', "alice's clamped answer was not stored under the key of 4000 tokens");
  t.equal(upstreamCalls(s), 2);
  t.equal(sentCap(s), 4000, 'bob asked the upstream for what he sent');
  const again = await ask(s, { user: 'bob', body });
  t.equal(again.headers.get('x-cache'), 'HIT', "bob's own answer, to the body as sent, was stored");
  t.equal(upstreamCalls(s), 2);
});

t.test("a 200 a filter after the cache answered itself is not stored: it is not the upstream's answer", async (t) => {
  // Before, any whole 200 was stored: a plugin's answer for one caller (a notice, a fixed
  // reply) was served to every caller asking the same question, in shared scope.
  const s = await startCache(t, { cache: { scope: 'shared' }, after: [{ name: 'test-canned', plugin: CANNED_FILTER_PATH }] });
  const alice = await ask(s, { user: 'alice', headers: { 'x-canned': 'yes' } });
  t.equal(alice.status, 200, alice.text);
  t.match(alice.text, CANNED_TEXT, 'the filter answered alice');
  t.equal(upstreamCalls(s), 0);
  const bob = await ask(s, { user: 'bob' });
  t.equal(bob.headers.get('x-cache'), 'MISS', "alice's canned answer was not stored");
  t.notMatch(bob.text, CANNED_TEXT);
  t.equal(upstreamCalls(s), 1);
  t.equal((await ask(s, { user: 'bob' })).headers.get('x-cache'), 'HIT', "the upstream's answer was");
});
