/**
 * A plugin imports `ai-gateway` from wherever it lives (a folder beside a config mounted
 * outside the gateway's checkout, say) and gets the running gateway's own modules.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { needsOwnPackageHook, OWN_ENTRY } from '../../core/own-package.js';
import { GATEWAY_VERSION } from '../../core/version.js';
import { startGateway } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const PLUGIN = `import { GatewayError, MemoryStore, storeFor } from 'ai-gateway';
import pkg from 'ai-gateway/package.json' with { type: 'json' };

export default {
  name: 'outside',
  create(config, env) {
    const facts = { sameModules: storeFor(env) instanceof MemoryStore, version: pkg.version };
    return {
      onRequest(ctx) {
        if (ctx.headers['x-fail']) return { action: 'reply', error: new GatewayError('GW_ERR_AUTH_MISSING') };
        return { action: 'reply', response: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(facts) } };
      },
    };
  },
};
`;

t.test("a plugin outside the checkout imports ai-gateway and gets the running gateway's modules", async (t) => {
  const dir = tempDir('gw-own-package-'); // under the system temp folder: no node_modules above it
  writeFileSync(path.join(dir, 'outside.mjs'), PLUGIN);
  const g = await startGateway(t, 'providers:\n  echo: {}\nfilters:\n  - name: rate-limit\n  - name: outside\n    plugin: ./outside.mjs\n', { dir });
  const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: '{}' });
  t.same(await res.json(), { sameModules: true, version: GATEWAY_VERSION }, "the rate-limit filter's store is the plugin's MemoryStore; the package.json is the gateway's");
  const refused = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-fail': '1' }, body: '{}' });
  t.equal(refused.status, 401, "its GatewayError is the gateway's: rendered as one, not as an internal error");
});

t.test('the resolve hook is registered only for a plugin that would not find the entry by itself', async (t) => {
  const built = path.join(repoRoot, 'dist/core/index.js');
  t.equal(needsOwnPackageHook(path.join(repoRoot, 'examples/plugins/ollama/index.js'), built), false, "inside the gateway's folder, running from dist: Node finds the entry");
  t.equal(needsOwnPackageHook(path.join(repoRoot, 'examples/plugins/ollama/index.js'), path.join(repoRoot, 'core/index.ts')), true, 'running from source: dist would be a second copy');
  t.equal(needsOwnPackageHook(path.join(tempDir('gw-own-package-'), 'p.mjs'), built), true, 'outside it: Node finds nothing');
  t.equal(needsOwnPackageHook(undefined, built), true, 'a package import() resolves by itself: assume it needs it');
  t.equal(fileURLToPath(OWN_ENTRY), path.join(repoRoot, 'core/index.ts'), 'from source, the entry is index.ts');
});
