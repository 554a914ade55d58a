/**
 * Shared pieces of the rate-limit tests: a config builder (JSON is YAML) with a header
 * identity filter before `rate-limit`, and request helpers.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const IDENTITY_PLUGIN = path.join(fixtures, 'identity-filter.ts');
export const TEST_PROVIDER_PLUGIN = path.join(fixtures, 'openai-style-provider.ts');

export interface ConfigOptions {
  rateLimits: Record<string, unknown>;
  store?: Record<string, unknown>;
  filter?: Record<string, unknown>;
  echoDelayMs?: number;
}

/** A gateway config: echo (Anthropic dialect), `oai` (plain dialect) and `anth` (Anthropic dialect) test providers. */
export function rateLimitConfig(o: ConfigOptions): string {
  const config: Record<string, unknown> = {
    server: { host: '127.0.0.1', port: 0 },
    providers: {
      echo: { models: ['echo-1'], stream_delay_ms: o.echoDelayMs ?? 0 },
      oai: { plugin: TEST_PROVIDER_PLUGIN, prefix: '/v1/oai', headers: { 'x-ratelimit-limit-requests': '10000', 'x-ratelimit-remaining-requests': '9999' } },
      anth: { plugin: TEST_PROVIDER_PLUGIN, prefix: '/v1/anth-test', dialect: 'anthropic', headers: { 'anthropic-ratelimit-requests-limit': '4000', 'anthropic-ratelimit-requests-remaining': '3999' } },
    },
    filters: [
      { name: 'identity', plugin: IDENTITY_PLUGIN },
      { name: 'rate-limit', config: o.filter ?? {} },
    ],
    rate_limits: o.rateLimits,
  };
  if (o.store) config.store = o.store;
  return JSON.stringify(config, null, 2);
}

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
  json(): Record<string, unknown>;
}

/** POST an Anthropic Messages request to the echo provider (or another path) as `user`. */
export async function send(base: string, o: { user?: string; path?: string; text?: string; maxTokens?: number; stream?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.user) headers['x-user'] = o.user;
  const body = JSON.stringify({ model: 'echo-1', max_tokens: o.maxTokens ?? 16, stream: o.stream ?? false, messages: [{ role: 'user', content: o.text ?? 'hi' }] });
  const res = await fetch(base + (o.path ?? '/v1/echo/v1/messages'), { method: 'POST', headers, body });
  return wrap(res);
}

export async function get(base: string, p: string, user?: string): Promise<Reply> {
  return wrap(await fetch(base + p, { headers: user ? { 'x-user': user } : {} }));
}

async function wrap(res: Response): Promise<Reply> {
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> };
}

/** The caller's `/v1/usage` view of one scope and dimension. */
export async function usageOf(base: string, user: string, scope: 'user' | 'global', dim: 'requests' | 'tokens'): Promise<{ limit: number; remaining: number; reset: string }> {
  const r = await get(base, '/v1/usage', user);
  const limits = r.json().rate_limits as Record<string, Record<string, { limit: number; remaining: number; reset: string }>>;
  return limits[scope][`${dim}_per_minute`];
}
