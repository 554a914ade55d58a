/**
 * The cache on Bedrock's pass-through: the client's `x-amzn-bedrock-*` headers go upstream
 * (signed) and change the answer (a guardrail applied, a trace added, a latency profile), so
 * each is part of the key, also when `vary_headers` is set to a list that does not name them.
 * A scripted upstream records what reached it.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const config = (url: string, cache: string): string => `providers:
  bedrock: { region: us-east-1, base_url: "${url}", credentials: static, access_key_id: AKIAEXAMPLE000000001, secret_access_key: secretsecretsecretsecretsecretsecret00 }
filters:
  - name: auth
  - name: cache
    config: ${cache}
workspaces:
  ws-1: { user: alice }
`;

const BODY = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'tell me something risky' }] }], inferenceConfig: { temperature: 0 } });
const GUARDED = { 'x-amzn-bedrock-guardrailidentifier': 'gr-strict', 'x-amzn-bedrock-guardrailversion': '1' };

for (const cache of ['{ scope: shared }', '{ vary_headers: [] }', '{ vary_headers: [X-Amzn-Bedrock-Trace] }']) {
  t.test(`x-amzn-bedrock-* headers are part of the key (${cache})`, async (t) => {
    const up = await ScriptedUpstream.start();
    t.teardown(() => up.close());
    const gw = await startGateway(t, config(up.url, cache));
    const send = async (headers: Record<string, string> = {}) => {
      const res = await fetch(`${gw.url}/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1:0/converse`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-gateway-cache': 'on', ...headers }, body: BODY });
      return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
    };
    const plain = await send();
    t.equal(plain.status, 200, plain.text);
    t.equal(plain.cache, 'MISS');
    const guarded = await send(GUARDED);
    t.equal(guarded.cache, 'MISS', 'a guardrail asked for: not the unguarded answer');
    t.equal(up.seen.at(-1)?.headers['x-amzn-bedrock-guardrailidentifier'], 'gr-strict', 'and the header reached Bedrock');
    t.equal((await send({ ...GUARDED, 'x-amzn-bedrock-guardrailversion': '2' })).cache, 'MISS', 'another guardrail version');
    t.equal((await send({ ...GUARDED, 'x-amzn-bedrock-trace': 'ENABLED' })).cache, 'MISS', 'a trace asked for');
    t.equal((await send({ 'x-amzn-bedrock-performanceconfig-latency': 'optimized' })).cache, 'MISS', 'a latency profile asked for');
    t.equal(up.seen.length, 5);
    t.equal((await send(GUARDED)).cache, 'HIT', 'the same guardrail again is the same answer');
    t.equal((await send({ 'x-amzn-bedrock-guardrailversion': '1', 'x-amzn-bedrock-guardrailidentifier': 'gr-strict' })).cache, 'HIT', 'in whatever order the headers come');
    t.equal((await send()).cache, 'HIT', 'and none is the first answer');
    t.equal(up.seen.length, 5);
  });
}
