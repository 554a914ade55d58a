/**
 * Shared set-up for the cache tests: the Anthropic mock behind a gateway whose chain is
 * identity (`x-user` header) → [rate-limit] → audit (to a file) → cache, in the seed's
 * order, and a client that sends Messages requests as a given user.
 */
import path from 'node:path';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { auditLines } from '../fixtures.js';

export const KEY = 'sk-ant-gateway-cache-test-000000';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface CacheSetup {
  mock: AnthropicMock;
  gw: TestGateway;
  base: string;
  audit(): Array<Record<string, unknown>>;
}

export async function startCache(t: Teardown, o: { cache?: Record<string, unknown>; rateLimits?: Record<string, unknown>; after?: unknown[] } = {}): Promise<CacheSetup> {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  const filters: unknown[] = [{ name: 'identity', plugin: IDENTITY_PLUGIN }];
  if (o.rateLimits) filters.push({ name: 'rate-limit', config: { bytes_per_token: 1e9 } });
  filters.push({ name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } }, { name: 'cache', config: o.cache ?? {} }, ...(o.after ?? []));
  const config: Record<string, unknown> = { providers: { anthropic: { api_key: KEY, base_url: mock.url } }, filters };
  if (o.rateLimits) config.rate_limits = o.rateLimits;
  const gw = await startGateway(t, JSON.stringify(config, null, 2));
  return { mock, gw, base: `${gw.url}/v1/claude`, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
}

/** POST a Messages request; `temperature: 0` unless `body` says otherwise. */
export async function ask(s: CacheSetup, o: { user?: string; workspace?: string; body?: Record<string, unknown>; headers?: Record<string, string>; id?: string } = {}): Promise<Sent> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...o.headers };
  if (o.user !== undefined) headers['x-user'] = o.user;
  if (o.workspace !== undefined) headers['x-workspace-id'] = o.workspace;
  if (o.id) headers['x-request-id'] = o.id;
  const body = { model: 'claude-sonnet-4-5', max_tokens: 64, temperature: 0, messages: [{ role: 'user', content: 'What is 2+2?' }], ...o.body };
  const res = await fetch(`${s.base}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Upstream Messages calls the mock has received. */
export function upstreamCalls(s: CacheSetup): number {
  return s.mock.requests.filter((r) => r.url.startsWith('/v1/messages')).length;
}
