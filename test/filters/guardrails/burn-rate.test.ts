/**
 * The burn rate (`max_tokens_per_minute`) is a session limit, not a loop: its refusal is
 * GW_ERR_SESSION_LIMIT and says, in `retry-after`, when the minute's tokens are forgotten.
 * On the memory store and on a real redis-server.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';
import { redisGateway } from './setup.js';

const FILTERS = `  - name: auth
  - name: cost
  - name: guardrails
    config:
      max_tokens_per_minute: 20
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`;

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store} store: a burn-rate refusal is a session limit that clears when the minute ends`, async (t) => {
    const gw = store === 'redis' ? (await redisGateway(t, FILTERS)).gw : await startGateway(t, config(FILTERS));
    const url = `${gw.url}/v1/echo/v1/messages`;
    const h = { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': 'burner' };
    const body = messages({ messages: [{ role: 'user', content: 'x'.repeat(80) }] }); // 20 in + 20 out
    // Both requests in one clock minute: the count starts again when it ends.
    if (60_000 - (Date.now() % 60_000) < 3000) await sleep(3500);
    t.equal((await post(url, h, body)).status, 200);
    const refused = await post(url, h, body);
    t.equal(refused.status, 403, 'over the burn rate');
    t.match(JSON.parse(refused.text), { error: { message: /more than 20 tokens a minute/ } });
    const wait = Number(refused.headers.get('retry-after'));
    t.ok(wait >= 1 && wait <= 60, `retry-after: the seconds left in the minute (${wait})`);
    t.equal(refused.headers.get('x-should-retry'), 'false', 'not retried by the SDK on its own');

    const file = path.join(gw.dir, 'audit.log');
    t.ok(await waitFor(() => auditLines(file).some((l) => l.status === 403)));
    t.equal(auditLines(file).find((l) => l.status === 403)?.error, 'GW_ERR_SESSION_LIMIT', 'audited as a session limit, not a loop');
    t.match(await (await fetch(`${gw.url}/metrics`)).text(), /gateway_guardrail_refusals_total\{reason="burn_rate"\} 1\n/);
  });
}
