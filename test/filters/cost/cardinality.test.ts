/**
 * The cost filter labels its counters with the client's model string. Like
 * gateway_tokens_total, they keep at most MAX_MODEL_SERIES (provider, model) pairs and count
 * later models under `model="other"`: a client inventing model names cannot mint series.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { MAX_MODEL_SERIES } from '../../../core/index.js';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { messages } from '../fixtures.js';

/** Echo prices `priced-*` only: `free-*` models are unpriced. */
const PRICES = 'providers:\n  echo:\n    models:\n      "priced-*": { input: 1000, output: 1000 }\n';
const CONFIG = 'providers:\n  echo: { models: [echo-1] }\nfilters:\n  - name: cost\npricing:\n  file: ./prices.yaml\n';

/** The samples of one metric in `/metrics` text: labels text → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(name.length, at), Number(line.slice(at + 1)));
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

t.test('gateway_cost_usd_total and gateway_unpriced_requests_total cap the models a client names', async (t) => {
  const dir = tempDir('gw-cost-cardinality-');
  writeFileSync(path.join(dir, 'prices.yaml'), PRICES);
  const gw = await startGateway(t, CONFIG, { dir });
  const send = (model: string) =>
    fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messages({ model, messages: [{ role: 'user', content: 'hi' }] }) }).then((r) => r.text());
  const N = 300; // of each kind: 600 pairs, past the cap
  for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => Promise.all([send(`priced-${i + j}`), send(`free-${i + j}`)])));

  let text = await (await fetch(`${gw.url}/metrics`)).text();
  const cost = samples(text, 'gateway_cost_usd_total');
  const unpriced = samples(text, 'gateway_unpriced_requests_total');
  t.ok(cost.size + unpriced.size <= MAX_MODEL_SERIES + 2, `the two counters share one pair budget: ${cost.size} + ${unpriced.size} series`);
  t.ok(cost.has('{provider="echo",model="other"}'), 'later priced models count under model="other"');
  t.ok(unpriced.has('{provider="echo",model="other"}'), 'later unpriced models count under model="other"');
  t.equal(sum(unpriced), N, 'every unpriced request is still counted');
  // "hi" is 1 input and 1 output token at $1000/MTok each: $0.002 a request.
  t.ok(Math.abs(sum(cost) - N * 0.002) < 1e-9, `every priced request's cost is still counted: ${sum(cost)}`);
  t.ok(cost.has('{provider="echo",model="priced-0"}') || unpriced.has('{provider="echo",model="free-0"}'), 'the first models keep their own series');

  // The counters outlive a reload, so the budget must too: a reload lets no new model in.
  t.ok((await gw.gateway.reload({ force: true })).ok);
  const before = unpriced.get('{provider="echo",model="other"}')!;
  await send('free-after-reload');
  text = await (await fetch(`${gw.url}/metrics`)).text();
  const after = samples(text, 'gateway_unpriced_requests_total');
  t.notOk(after.has('{provider="echo",model="free-after-reload"}'), 'no series of its own after a reload');
  t.equal(after.get('{provider="echo",model="other"}'), before + 1, 'counted under model="other"');
});
