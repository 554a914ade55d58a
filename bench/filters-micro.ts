/**
 * Each built-in filter's own cost per request, in-process: its hooks called on a real
 * request context in a tight loop, no network. Complements bench/chain-cost.ts (whole
 * process, noisier) with figures a change to one filter can be judged by.
 *
 *   npx tsx bench/filters-micro.ts [--iterations 200000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Context } from '../core/context.js';
import { parseConfig } from '../core/config/load.js';
import { createMetricsFactory } from '../core/metrics-factory.js';
import { silentLogger } from '../core/logger.js';
import { localWriters } from '../core/cluster/single-writer.js';
import { anthropicDialect } from '../providers/anthropic/dialect.js';
import { builtinFilters } from '../filters/index.js';
import { Registry } from '../core/deps/prom-client.js';
import type { Filter, FilterPlugin, Outcome, PluginEnv, SharedState } from '../core/index.js';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const N = Number(args.iterations);
const dir = mkdtempSync(path.join(tmpdir(), 'gw-micro-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

const configText = `
providers: { echo: {} }
workspaces:
  ws-bench: { user: bench, project: perf }
rate_limits:
  global: { requests_per_minute: 100000000, tokens_per_minute: 100000000000 }
  default: { requests_per_minute: 100000000, tokens_per_minute: 100000000000 }
`;
const loaded = parseConfig(configText, path.join(dir, 'config.yaml'), {});
const shared = new Map<string, unknown>();
const env: PluginEnv = {
  log: silentLogger,
  metrics: createMetricsFactory(new Registry()),
  shared: { get: <T>(k: string, create: () => T): T => (shared.has(k) ? (shared.get(k) as T) : (shared.set(k, create()), shared.get(k) as T)) } as SharedState,
  upstream: () => {
    throw new Error('no upstream in a micro benchmark');
  },
  configDir: dir,
  gatewayVersion: 'bench',
  providers: new Map(),
  config: loaded.config,
  singleWriters: localWriters(silentLogger),
};

const body = (() => {
  const b = { model: 'claude-bench', max_tokens: 256, messages: [{ role: 'user', content: '' }] };
  b.messages[0].content = 'x'.repeat(1024 - JSON.stringify(b).length);
  return Buffer.from(JSON.stringify(b));
})();

function context(): Context {
  const ctx = new Context({
    id: 'req-bench',
    method: 'POST',
    path: '/v1/claude/v1/messages',
    query: '',
    headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-bench', 'anthropic-version': '2023-06-01' },
    httpVersion: '1.1',
    remoteAddress: '127.0.0.1',
    route: { name: 'anthropic', mode: 'passthrough', provider: 'anthropic', prefix: '/v1/claude' },
    subpath: '/v1/messages',
    dialect: anthropicDialect,
    arrivedAt: performance.now(),
  });
  ctx.body = body;
  ctx.kind = 'generation';
  ctx.model = 'claude-bench';
  ctx.maxOutputTokens = 256;
  ctx.provider = 'anthropic';
  ctx.json();
  return ctx;
}

const outcome: Outcome = {
  status: 200,
  provider: 'anthropic',
  model: 'claude-bench',
  stream: false,
  usage: { inputTokens: 250, outputTokens: 12, cacheCreationTokens: 0, cacheReadTokens: 0 },
  bytesIn: 1024,
  bytesOut: 320,
  durationMs: 1.2,
  ttfbMs: 1.1,
  upstreamMs: 1.0,
};

const configs: Record<string, Record<string, unknown>> = {
  auth: { source: 'static' },
  'rate-limit': {},
  audit: { stdout: false, file: path.join(dir, 'audit.jsonl') },
  validator: { max_tokens: 64000 },
  cost: {},
};

async function cost(name: string): Promise<number> {
  const plugin = (await builtinFilters[name]!()) as unknown as FilterPlugin<Record<string, unknown>>;
  const { compileSchema } = await import('../core/config/ajv.js');
  const config = { ...configs[name] };
  if (plugin.configSchema) compileSchema(plugin.configSchema)(config);
  const filter: Filter = await plugin.create(config, env);
  const run = async (n: number): Promise<number> => {
    let hooks = 0;
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const ctx = context();
      ctx.identity = { user: 'bench', workspace: 'ws-bench', project: 'perf', source: 'header' };
      const v = filter.onRequest?.(ctx);
      if (v instanceof Promise) await v;
      const head = { status: 200, headers: {} as Record<string, string> };
      const r = filter.onResponse?.(ctx, head);
      if (r instanceof Promise) await r;
      filter.onComplete?.(ctx, outcome);
      hooks++;
    }
    const used = process.cpuUsage(start);
    return ((used.user + used.system) / hooks);
  };
  await run(Math.min(20000, N)); // warm up
  const result = await run(N);
  await filter.close?.();
  return result;
}

async function main(): Promise<void> {
  const base = await (async () => {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) context();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / N;
  })();
  process.stdout.write(`| filter | µs per request (hooks only) |\n|---|---|\n| (context creation, subtracted) | ${base.toFixed(2)} |\n`);
  for (const name of Object.keys(configs)) {
    const us = (await cost(name)) - base;
    process.stdout.write(`| ${name} | ${us.toFixed(2)} |\n`);
  }
  process.stdout.write(`\n${N} iterations each, process CPU time, node ${process.version}.\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
