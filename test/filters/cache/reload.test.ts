/**
 * The cache across reloads: a config whose new bounds fail to build (another filter refuses
 * its config) leaves the serving pipeline's entries in place (the new bounds used to clear
 * them while the new pipeline was still being built), its gauges too, and a later reload
 * back to the serving bounds keeps them (the failed build used to switch the shared cache to
 * its bounds); one that builds starts an empty cache.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const yaml = (url: string, cache: string, after = ''): string => `providers:
  anthropic: { api_key: sk-ant-cache-reload-0000, base_url: "${url}" }
filters:
  - name: auth
  - name: cache
${cache}${after}
workspaces:
  ws-1: { user: alice }
`;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1));
}

function asker(url: string): (text?: string) => Promise<string | null> {
  return async (text = 'hi') => {
    const res = await fetch(`${url}/v1/claude/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: text }] }),
    });
    await res.text();
    return res.headers.get('x-cache');
  };
}

t.test('new bounds in a config that fails to build leave the cache as it was', async (t) => {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(t, yaml(upstream.url, ''));
  const ask = asker(gw.url);
  t.equal(await ask(), 'MISS');
  t.equal(await ask(), 'HIT', 'warm');
  const serving = gw.gateway.current.hash;
  // Schema-valid, but the network filter's create() refuses an allow entry that is no address.
  writeFileSync(gw.configPath, yaml(upstream.url, '    config: { max_entries: 50 }\n', '  - name: network\n    config: { allow: ["not-an-address"] }'));
  const failed = await gw.gateway.reload();
  t.notOk(failed.ok, 'the reload failed');
  t.equal(gw.gateway.current.hash, serving, 'the old pipeline still serves');
  t.equal(await ask(), 'HIT', 'and its entries with it');
  writeFileSync(gw.configPath, yaml(upstream.url, '    config: { max_entries: 50 }\n'));
  t.ok((await gw.gateway.reload()).ok, 'new bounds that build');
  t.equal(await ask(), 'MISS', 'start an empty cache');
  t.equal(await ask(), 'HIT');
});

t.test('a failed build with new bounds leaves the gauges, and a later reload at the serving bounds the entries', async (t) => {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(t, yaml(upstream.url, ''));
  const ask = asker(gw.url);
  t.equal(await ask(), 'MISS');
  t.equal(await ask(), 'HIT');
  t.equal(await metric(gw.url, 'gateway_cache_entries'), 1);
  const bytes = await metric(gw.url, 'gateway_cache_bytes');
  t.ok(bytes > 256, 'the body and its overhead');
  writeFileSync(gw.configPath, yaml(upstream.url, '    config: { max_entries: 50 }\n', '  - name: network\n    config: { allow: ["not-an-address"] }'));
  t.notOk((await gw.gateway.reload()).ok, 'the reload failed');
  t.equal(await metric(gw.url, 'gateway_cache_entries'), 1, 'the serving cache is what the gauges count');
  t.equal(await metric(gw.url, 'gateway_cache_bytes'), bytes);
  // Another change, the serving bounds: the entries stay.
  writeFileSync(gw.configPath, yaml(upstream.url, '', '  - name: network\n    config: { allow: ["127.0.0.1/32"] }'));
  t.ok((await gw.gateway.reload()).ok);
  t.equal(await ask(), 'HIT', 'no bound changed against the serving config');
  t.equal(await metric(gw.url, 'gateway_cache_entries'), 1);
  // New bounds that build: once the old pipeline has drained only the new, empty cache counts.
  writeFileSync(gw.configPath, yaml(upstream.url, '    config: { max_entries: 50 }\n'));
  t.ok((await gw.gateway.reload()).ok);
  for (let i = 0; i < 100 && (await metric(gw.url, 'gateway_cache_entries')) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await metric(gw.url, 'gateway_cache_entries'), 0, 'the old cache let go with its pipeline');
  t.equal(await ask('other'), 'MISS');
  t.equal(await metric(gw.url, 'gateway_cache_entries'), 1);
});

t.test("a reload that re-points a provider to another upstream misses its old entries; one that changes only its resilience keeps them", async (t) => {
  // Before, the key named the provider instance by name alone and the entries outlive a
  // reload: once `anthropic` pointed elsewhere (another account, region or compatible
  // server), its old upstream's answers were served for their TTL.
  const a = await ScriptedUpstream.start();
  const b = await ScriptedUpstream.start();
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  const gw = await startGateway(t, yaml(a.url, ''));
  const ask = asker(gw.url);
  t.equal(await ask(), 'MISS');
  t.equal(await ask(), 'HIT', 'warm');
  writeFileSync(gw.configPath, yaml(a.url, '').replace(`base_url: "${a.url}" }`, `base_url: "${a.url}", resilience: { retry: { retries: 1 } } }`));
  t.ok((await gw.gateway.reload()).ok);
  t.equal(await ask(), 'HIT', 'retries do not change an answer: the entry stays');
  writeFileSync(gw.configPath, yaml(b.url, ''));
  t.ok((await gw.gateway.reload()).ok);
  t.equal(await ask(), 'MISS', "the old upstream's answer is not the new one's");
  t.equal(b.seen.length, 1, 'the new upstream was asked');
  t.equal(await ask(), 'HIT');
  t.equal(a.seen.length, 1);
});
