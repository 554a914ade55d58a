/**
 * The header copy every upstream request and every response head starts from: names
 * lower-cased (the same string when they already are), hop-by-hop, pseudo, skipped and
 * dropped names left out, and a credential caught whatever the case it arrives in.
 */
import t from 'tap';
import { lowerCaseName, withoutHopByHop } from '../../core/http-headers.js';
import { upstreamRequestHeaders } from '../../core/upstream.js';

t.test('lowerCaseName lower-cases, and hands back a lower-case name as it is', async (t) => {
  t.equal(lowerCaseName('X-Api-Key'), 'x-api-key');
  t.equal(lowerCaseName('AUTHORIZATION'), 'authorization');
  t.equal(lowerCaseName('anthropic-version'), 'anthropic-version');
  t.equal(lowerCaseName('x-ratelimit-limit-requests'), 'x-ratelimit-limit-requests');
  t.equal(lowerCaseName(''), '');
});

t.test('withoutHopByHop leaves out hop-by-hop, pseudo, skipped and dropped names', async (t) => {
  const out = withoutHopByHop(
    { ':authority': 'gw', Connection: 'keep-alive, X-Hop', 'x-hop': '1', 'Keep-Alive': 'timeout=5', 'Content-Type': 'application/json', 'x-skip': '1', 'X-Drop': '1', 'x-keep': '1', 'x-undefined': undefined },
    (name) => name === 'x-skip',
    new Set(['x-drop']),
  );
  t.same(out, { 'content-type': 'application/json', 'x-keep': '1' });
});

t.test('upstreamRequestHeaders drops credentials, gateway and dropped headers in any case', async (t) => {
  const out = upstreamRequestHeaders(
    { Authorization: 'Bearer client', 'X-Api-Key': 'client', 'X-Amz-Security-Token': 't', 'X-Gateway-Cache': 'bypass', 'X-Workspace-Id': 'ws', Host: 'gw', 'anthropic-version': '2023-06-01' } as never,
    new Set(['x-workspace-id']),
  );
  t.same(out, { 'anthropic-version': '2023-06-01' });
  t.same(upstreamRequestHeaders({ 'x-workspace-id': 'ws', accept: '*/*' }), { 'x-workspace-id': 'ws', accept: '*/*' }, 'nothing dropped without a drop set');
});
