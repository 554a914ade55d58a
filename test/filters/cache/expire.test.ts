/**
 * Entries whose TTL ran out: counted as `gateway_cache_evictions_total{reason="expire"}`
 * however they go (pushed out by the bounds, replaced, purged before a scrape), never as
 * `evict`, and no longer in `gateway_cache_entries` / `_bytes` once a scrape has run, though
 * no one asked for them again. Only `evict` counts a live entry the bounds pushed out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

const EXPIRE = 'gateway_cache_evictions_total{reason="expire"}';
const EVICT = 'gateway_cache_evictions_total{reason="evict"}';

async function start(t: Parameters<typeof startGateway>[0], ttl: number): Promise<{ url: string; ask(text: string, headers?: Record<string, string>): Promise<string | null> }> {
  const cfg = { providers: { echo: { models: ['echo-1'] } }, filters: [{ name: 'identity', plugin: IDENTITY_PLUGIN }, { name: 'cache', config: { ttl_seconds: ttl, max_entries: 2 } }] };
  const gw = await startGateway(t, JSON.stringify(cfg));
  const ask = async (text: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'u', ...headers }, body: JSON.stringify({ model: 'echo-1', max_tokens: 64, temperature: 0, messages: [{ role: 'user', content: text }] }) });
    await res.text();
    return res.headers.get('x-cache');
  };
  return { url: gw.url, ask };
}

t.test('expired entries pushed out by the bounds count as expire; a scrape drops the rest', async (t) => {
  const { url, ask } = await start(t, 1.5);
  await ask('a');
  await ask('b');
  t.equal(await metric(url, 'gateway_cache_entries'), 2);
  await sleep(2000); // both TTLs ran out
  await ask('c'); // max_entries 2: an expired entry makes room
  await ask('d');
  t.equal(await metric(url, EXPIRE), 2, 'the two entries whose TTL ran out');
  t.equal(await metric(url, EVICT), 0, 'nothing live was pushed out');
  await sleep(2000);
  t.equal(await metric(url, 'gateway_cache_entries'), 0, 'expired entries are not held');
  t.equal(await metric(url, 'gateway_cache_bytes'), 0);
  t.equal(await metric(url, EXPIRE), 4, 'and were counted as they went');
  t.equal(await ask('c'), 'MISS');
});

t.test('a live entry pushed out by the bounds counts as evict', async (t) => {
  const { url, ask } = await start(t, 60);
  await ask('a');
  await ask('b');
  await ask('c');
  t.equal(await metric(url, EVICT), 1, 'a was live');
  t.equal(await metric(url, EXPIRE), 0);
  t.equal(await metric(url, 'gateway_cache_entries'), 2);
});

t.test('an expired entry replaced by a no-cache answer counts as expire', async (t) => {
  const { url, ask } = await start(t, 1.5);
  await ask('a');
  await sleep(2000);
  t.equal(await ask('a', { 'cache-control': 'no-cache' }), 'MISS', 'no lookup: the answer replaces the expired entry');
  t.equal(await metric(url, EXPIRE), 1);
  t.equal(await metric(url, EVICT), 0);
  t.equal(await metric(url, 'gateway_cache_entries'), 1, 'the new answer');
});
