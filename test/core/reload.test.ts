/**
 * Hot reload through the file watcher: each way a config file gets replaced in practice is
 * applied within a generous bound (the measured time is printed), an invalid edit changes
 * nothing, and a stream that started before a reload finishes intact on its old pipeline.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { Gateway } from '../../core/index.js';
import { createLogger } from '../../core/logger.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { messages, metric, streamedText, waitFor } from '../helpers/live.js';
import { tempDir } from '../helpers/temp-dir.js';
import { auditLines } from '../filters/fixtures.js';

/** Bound asserted on every reload; the 250 ms target is printed, not asserted, on a shared machine. */
const BOUND_MS = 2000;

function config(models: string[], delayMs = 0): string {
  return `server:\n  host: 127.0.0.1\nproviders:\n  echo:\n    models: [${models.join(', ')}]\n    stream_delay_ms: ${delayMs}\n`;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

async function models(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/v1/providers`)).json()) as { providers: Array<{ name: string; models: string[] }> };
  return body.providers.find((p) => p.name === 'echo')!.models;
}

/** Run `write`, wait until the gateway serves `text`, return the milliseconds that took. */
async function timedReload(gw: Gateway, text: string, write: () => void | Promise<void>): Promise<number> {
  const started = performance.now();
  await write();
  await waitFor(() => gw.current.hash === sha(text), BOUND_MS);
  return performance.now() - started;
}

async function checkReload(t: Test, g: TestGateway, how: string, next: string[], write: (text: string) => void | Promise<void>): Promise<void> {
  const text = config(next);
  const ms = await timedReload(g.gateway, text, () => write(text));
  t.comment(`${how}: applied ${ms.toFixed(1)} ms after the write (target 250 ms)`);
  t.ok(ms < BOUND_MS, `${how} applied within ${BOUND_MS} ms`);
  t.same(await models(g.url), next, `${how}: /v1/providers shows the new model list`);
}

t.test('plain write (writeFile in place)', async (t) => {
  const g = await startGateway(t, config(['a-1']));
  t.same(await models(g.url), ['a-1']);
  await checkReload(t, g, 'plain write', ['a-2'], (text) => writeFileSync(g.configPath, text));
});

t.test('a busy file beside the config (an audit log written every 5 ms) does not delay the reload', async (t) => {
  const g = await startGateway(t, config(['n-1']));
  const noisy = path.join(path.dirname(g.configPath), 'audit.jsonl');
  const writer = setInterval(() => writeFileSync(noisy, `{"line":${Date.now()}}\n`, { flag: 'a' }), 5);
  t.teardown(() => clearInterval(writer));
  await sleep(50);
  await checkReload(t, g, 'write beside a busy file', ['n-2'], (text) => writeFileSync(g.configPath, text));
  await checkReload(t, g, 'second write beside a busy file', ['n-3'], (text) => writeFileSync(g.configPath, text));
});

t.test("editor's atomic save (temp file renamed over the config)", async (t) => {
  const g = await startGateway(t, config(['b-1']));
  await checkReload(t, g, 'atomic rename', ['b-2', 'b-3'], (text) => {
    const tmp = path.join(g.dir, '.config.yaml.swp');
    writeFileSync(tmp, text);
    renameSync(tmp, g.configPath);
  });
  // The watch survives the rename: a second save is seen too.
  await checkReload(t, g, 'second atomic rename', ['b-4'], (text) => {
    const tmp = path.join(g.dir, 'config.yaml~');
    writeFileSync(tmp, text);
    renameSync(tmp, g.configPath);
  });
});

t.test('non-atomic rewrite (truncate, then write in two parts)', async (t) => {
  const g = await startGateway(t, config(['c-1']));
  await checkReload(t, g, 'truncate + write', ['c-2'], async (text) => {
    const fd = openSync(g.configPath, 'w'); // truncates: the first event sees an empty file
    await sleep(5);
    writeSync(fd, text.slice(0, 20));
    await sleep(5);
    writeSync(fd, text.slice(20));
    closeSync(fd);
  });
  const failures = metric(await (await fetch(`${g.url}/metrics`)).text(), 'gateway_config_loads_total{result="failure"}');
  t.comment(`failed loads during the rewrite: ${failures}`);
  t.equal(g.gateway.current.hash, sha(config(['c-2'])), 'the final content is what serves');
});

t.test('deleted, then written anew', async (t) => {
  const g = await startGateway(t, config(['e-1']));
  await checkReload(t, g, 'delete + re-create', ['e-2'], async (text) => {
    rmSync(g.configPath);
    await sleep(120); // past a poll, so the watch sees the file gone
    writeFileSync(g.configPath, text);
  });
  await checkReload(t, g, 'write after the re-creation', ['e-3'], (text) => writeFileSync(g.configPath, text));
});

t.test('Kubernetes ConfigMap symlink swap (..data replaced)', async (t) => {
  // config.yaml → ..data/config.yaml, ..data → ..<timestamp>; the kubelet swaps ..data atomically.
  const dir = tempDir('gw-cm-');
  const publish = (version: string, text: string): void => {
    mkdirSync(path.join(dir, version));
    writeFileSync(path.join(dir, version, 'config.yaml'), text);
    symlinkSync(version, path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  };
  publish('..2026_01_01_00_00_00.1', config(['d-1']));
  symlinkSync('..data/config.yaml', path.join(dir, 'config.yaml'));
  const gateway = await Gateway.start({ configPath: path.join(dir, 'config.yaml'), catalog: builtinCatalog, env: {}, log: createLogger({ sink: () => {} }), port: 0, host: '127.0.0.1' });
  t.teardown(() => gateway.close());
  const g = { gateway, url: gateway.url, configPath: path.join(dir, 'config.yaml'), dir, logs: [] };
  t.same(await models(g.url), ['d-1']);
  await checkReload(t, g, 'symlink swap', ['d-2'], (text) => {
    publish('..2026_01_01_00_01_00.2', text);
    rmSync(path.join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
  });
  await checkReload(t, g, 'second symlink swap', ['d-3'], (text) => {
    publish('..2026_01_01_00_02_00.3', text);
    rmSync(path.join(dir, '..2026_01_01_00_01_00.2'), { recursive: true });
  });
});

t.test('an invalid edit changes nothing; the failure is counted and logged with line and key', async (t) => {
  const g = await startGateway(t, config(['e-1']));
  const good = g.gateway.current.hash;
  const failuresBefore = metric(await (await fetch(`${g.url}/metrics`)).text(), 'gateway_config_loads_total{result="failure"}');
  writeFileSync(g.configPath, config(['e-2']).replace('stream_delay_ms: 0', 'stream_delay_ms: slow'));
  const failures = await waitFor(async () => {
    const n = metric(await (await fetch(`${g.url}/metrics`)).text(), 'gateway_config_loads_total{result="failure"}');
    return n > failuresBefore ? n : 0;
  }, BOUND_MS, 10);
  t.equal(failures, failuresBefore + 1, 'one failed load counted');
  t.equal(g.gateway.current.hash, good, 'the old pipeline still serves');
  t.same(await models(g.url), ['e-1'], 'the old model list is still served');
  const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messages('still here') });
  t.equal(res.status, 200, 'requests keep succeeding');
  const failure = g.logs.find((l) => l.msg === 'config reload failed; still serving the previous config');
  const issues = (failure?.issues ?? []) as Array<{ line?: number; path: string }>;
  t.ok(issues.some((i) => i.line === 6 && i.path === 'providers.echo.stream_delay_ms'), 'the log names line 6 and the key path');
  // Fixing the file applies it.
  await checkReload(t, g, 'fix after an invalid edit', ['e-3'], (text) => writeFileSync(g.configPath, text));
});

t.test('an invalid edit reloaded by hand is tried once: the watcher does not try the same content again', async (t) => {
  const g = await startGateway(t, config(['h-1']));
  const failuresOf = async (): Promise<number> => metric(await (await fetch(`${g.url}/metrics`)).text(), 'gateway_config_loads_total{result="failure"}');
  const before = await failuresOf();
  const bad = config(['h-2']).replace('stream_delay_ms: 0', 'stream_delay_ms: slow');
  writeFileSync(g.configPath, bad);
  // Read at once, in this turn: the watcher polls on a timer, so it sees the write only after.
  const result = await g.gateway.reload({ force: true });
  t.equal(result.ok, false, 'the reload by hand fails');
  await waitFor(() => g.logs.some((l) => l.msg === 'config file changed on disk, its content did not since the last load' && l.hash === sha(bad).slice(0, 16)), BOUND_MS, 10);
  t.equal(await failuresOf(), before + 1, 'one failed load counted');
  t.equal(g.logs.filter((l) => l.msg === 'config reload failed; still serving the previous config').length, 1, 'one failure logged');
  await checkReload(t, g, 'the next edit after a failed reload by hand', ['h-3'], (text) => writeFileSync(g.configPath, text));
});

t.test('a rewrite to nothing but blank lines or comments is refused like any invalid edit', async (t) => {
  const g = await startGateway(t, config(['g-1']));
  const good = g.gateway.current.hash;
  for (const text of ['\n', '# the real config follows\n']) {
    writeFileSync(g.configPath, text);
    await waitFor(() => g.logs.some((l) => l.msg === 'config reload failed; still serving the previous config' && JSON.stringify(l.issues).includes('the config file is empty')), BOUND_MS, 10);
    t.equal(g.gateway.current.hash, good, `${JSON.stringify(text)}: the old pipeline still serves`);
    t.same(await models(g.url), ['g-1'], `${JSON.stringify(text)}: the provider is still there`);
    g.logs.length = 0;
  }
  await checkReload(t, g, 'the real content after an empty one', ['g-2'], (text) => writeFileSync(g.configPath, text));
});

t.test('a stream started before a reload finishes intact on the old pipeline', async (t) => {
  const g = await startGateway(t, config(['f-1'], 40));
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
  const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messages(words, true) });
  t.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let sse = decoder.decode((await reader.read()).value, { stream: true });
  const old = g.gateway.current;
  const ms = await timedReload(g.gateway, config(['f-2'], 40), () => writeFileSync(g.configPath, config(['f-2'], 40)));
  t.comment(`reload during a stream: applied ${ms.toFixed(1)} ms after the write`);
  t.ok(old.active > 0, 'the old pipeline still carries the stream after the swap');
  t.same(await models(g.url), ['f-2'], 'new requests see the new config');
  for (let r = await reader.read(); !r.done; r = await reader.read()) sse += decoder.decode(r.value, { stream: true });
  t.equal(streamedText(sse), words, 'every delta arrived');
  t.match(sse, /event: message_stop/, 'the stream ended normally');
  await waitFor(() => old.active === 0, BOUND_MS);
});

t.test('a forced reload (SIGHUP) applies a change to a file the config names; an unforced one does not rebuild', async (t) => {
  const dir = tempDir('gw-reload-ref-');
  const prices = (input: number) => writeFileSync(path.join(dir, 'prices.yaml'), `providers:\n  echo:\n    models:\n      "echo-1": { input: ${input}, output: 0 }\n`);
  prices(1);
  const g = await startGateway(t, `server:\n  host: 127.0.0.1\nproviders:\n  echo:\n    models: [echo-1]\npricing:\n  file: ./prices.yaml\nfilters:\n  - name: cost\n  - name: audit\n    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }\n`, { dir });
  const cost = async (): Promise<number> => {
    const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'echo-1', max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(400) }] }) });
    const id = res.headers.get('x-request-id');
    await res.arrayBuffer();
    let line: { cost_usd: number } | undefined;
    await waitFor(() => {
      line = auditLines(path.join(g.dir, 'audit.log')).find((l) => l.request_id === id) as { cost_usd: number } | undefined;
      return line !== undefined;
    }, BOUND_MS);
    return line!.cost_usd;
  };
  const before = await cost();
  t.ok(before > 0, `priced at $1/MTok: ${before}`);
  prices(3);
  const unforced = await g.gateway.reload();
  t.equal(unforced.ok && unforced.changed, false, 'the config file itself did not change: nothing rebuilt');
  const forced = await g.gateway.reload({ force: true });
  t.equal(forced.ok && forced.changed, true, 'forced: rebuilt');
  t.equal(await cost(), Math.round(before * 3 * 1e9) / 1e9, 'the new price book prices the next request');
});
