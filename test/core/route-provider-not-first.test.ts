/**
 * A pass-through route that names a `provider` and also lists `targets`, where that
 * provider is not the target its `priority` puts first: requests go to the targets in
 * their order, but the route's `provider` still names the audit's `provider` and the
 * response cache's key, so the audit names the wrong target and the cache never stores an
 * answer (each one looks served by a fallback). Refusing such configs would break them;
 * the load logs a warning naming the route, the provider and the first target. Before,
 * nothing said so.
 */
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';

const config = (provider: string, priorities: [number, number]): string => `providers:
  openai: { api_key: sk-a, base_url: http://127.0.0.1:9 }
  mistral: { type: openai, api_key: sk-b, base_url: http://127.0.0.1:9 }
routes:
  - name: chat
    match: { prefix: /v1/chat-ha }
    provider: ${provider}
    targets:
      - { provider: openai, priority: ${priorities[0]} }
      - { provider: mistral, priority: ${priorities[1]} }
`;

const warnings = (logs: Array<Record<string, unknown>>) => logs.filter((l) => l.level === 'warn' && String(l.msg).includes('is not the target tried first'));

t.test('a route whose provider is not its first target by priority: a warning at load', async (t) => {
  const gw = await startGateway(t, config('mistral', [0, 1]));
  const [w, ...more] = warnings(gw.logs);
  t.ok(w, 'warned');
  t.equal(more.length, 0, 'once');
  t.match(w, { route: 'chat', provider: 'mistral', first_target: 'openai' });
  t.match(String(w.msg), /audit/);
  t.match(String(w.msg), /cache/);
});

t.test('no warning when the provider is the one tried first', async (t) => {
  t.equal(warnings((await startGateway(t, config('openai', [0, 1]))).logs).length, 0);
  t.equal(warnings((await startGateway(t, config('mistral', [5, 1]))).logs).length, 0, 'first by priority, not by place in the list');
});
