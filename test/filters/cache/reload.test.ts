/**
 * The cache across reloads: a config whose new bounds fail to build (another filter refuses
 * its config) leaves the serving pipeline's entries in place (the new bounds used to clear
 * them while the new pipeline was still being built); one that builds starts an empty cache.
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

t.test('new bounds in a config that fails to build leave the cache as it was', async (t) => {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(t, yaml(upstream.url, ''));
  const ask = async (): Promise<string | null> => {
    const res = await fetch(`${gw.url}/v1/claude/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    return res.headers.get('x-cache');
  };
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
