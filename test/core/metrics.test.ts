import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';

/** Parse Prometheus text: family name → type, and every sample line. */
function parse(text: string): { types: Map<string, string>; samples: Array<{ name: string; labels: Record<string, string>; value: number }> } {
  const types = new Map<string, string>();
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
    } else if (line && !line.startsWith('#')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`unparseable metrics line: ${line}`);
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
  }
  return { types, samples };
}

t.test('/metrics serves Prometheus text with the gateway families', async (t) => {
  const gw = await startGateway(t, 'providers:\n  echo: {}\n');
  await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello metrics') });
  await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello metrics', { stream: true }) });
  await call(`${gw.url}/nope`);
  const res = await call(`${gw.url}/metrics`);
  t.equal(res.status, 200);
  t.match(String(res.headers['content-type']), /^text\/plain/);
  const { types, samples } = parse(res.text);
  const expected: Record<string, string> = {
    gateway_requests_total: 'counter',
    gateway_request_duration_seconds: 'histogram',
    gateway_overhead_seconds: 'histogram',
    gateway_time_to_first_byte_seconds: 'histogram',
    gateway_in_flight_requests: 'gauge',
    gateway_tokens_total: 'counter',
    gateway_upstream_errors_total: 'counter',
    gateway_config_loads_total: 'counter',
    gateway_config_info: 'gauge',
    process_cpu_seconds_total: 'counter',
    nodejs_heap_size_used_bytes: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) t.equal(types.get(name), type, `${name} is a ${type}`);

  const served = samples.find((s) => s.name === 'gateway_requests_total' && s.labels.route === 'echo' && s.labels.status_class === '2xx');
  t.equal(served?.value, 2);
  const missed = samples.find((s) => s.name === 'gateway_requests_total' && s.labels.route === 'unmatched');
  t.equal(missed?.labels.status_class, '4xx');
  t.equal(samples.find((s) => s.name === 'gateway_in_flight_requests')?.value, 0);
  const buckets = samples.filter((s) => s.name === 'gateway_overhead_seconds_bucket' && s.labels.route === 'echo').map((s) => s.labels.le);
  t.ok(buckets.includes('0.0001') && buckets.includes('0.0005'), 'sub-millisecond overhead buckets');
  const tokensIn = samples.find((s) => s.name === 'gateway_tokens_total' && s.labels.direction === 'input');
  t.ok(tokensIn && tokensIn.value > 0, 'tokens by direction');
  t.equal(samples.find((s) => s.name === 'gateway_config_loads_total' && s.labels.result === 'success')?.value, 1);
  const info = samples.filter((s) => s.name === 'gateway_config_info');
  t.equal(info.length, 1);
  t.equal(info[0].labels.hash, gw.gateway.current.hash.slice(0, 16));
});

t.test('the config info metric drops its old label when the config changes', async (t) => {
  // No watch: the counts below are of these two reloads, not of the watcher seeing the same writes.
  const gw = await startGateway(t, 'providers:\n  echo: {}\n', { watch: false });
  const before = gw.gateway.current.hash.slice(0, 16);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(gw.configPath, 'providers:\n  echo:\n    models: [changed]\n');
  const r = await gw.gateway.reload();
  t.equal(r.ok, true);
  const { samples } = parse((await call(`${gw.url}/metrics`)).text);
  const info = samples.filter((s) => s.name === 'gateway_config_info');
  t.equal(info.length, 1, 'one info series');
  t.not(info[0].labels.hash, before);
  t.equal(samples.find((s) => s.name === 'gateway_config_loads_total' && s.labels.result === 'success')?.value, 2);

  writeFileSync(gw.configPath, 'providers:\n  echo:\n    colour: red\n');
  const bad = await gw.gateway.reload();
  t.equal(bad.ok, false);
  const after = parse((await call(`${gw.url}/metrics`)).text).samples;
  t.equal(after.find((s) => s.name === 'gateway_config_loads_total' && s.labels.result === 'failure')?.value, 1);
  const models = (await call(`${gw.url}/v1/providers`)).json<{ providers: Array<{ models: string[] }> }>();
  t.same(models.providers[0].models, ['changed'], 'the last good config keeps serving');
});
