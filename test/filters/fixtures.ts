/** Shared bits for the filter tests: configs, requests, and reading the audit file. */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const SECRET = 'test-secret-0123456789-abcdef';

/** A config with the echo provider and the given filter entries (YAML list items). */
export function config(filters: string, extra = ''): string {
  return `providers:
  echo:
    models: [echo-1]
    stream_delay_ms: 5
filters:
${filters}
workspaces:
  ws-abc123: { user: contractor1, project: webide }
  ws_under_score: { user: admin }
${extra}`;
}

/** A `store:` section on a test redis-server that refuses while it is down. */
export function redisStore(url: string, keyPrefix: string): string {
  return `store:
  type: redis
  redis: { url: "${url}", key_prefix: "${keyPrefix}", fail_mode: closed, timeout_ms: 2000 }
`;
}

/** The echo model at $100 per million tokens in and out. */
export const ECHO_PRICES = `pricing:
  providers:
    echo: { models: { "echo-1": { input: 100, output: 100 } } }
`;

export function messages(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'echo-1', max_tokens: 64, messages: [{ role: 'user', content: 'Hello, gateway' }], ...overrides });
}

export async function post(url: string, headers: Record<string, string> = {}, body = messages(), signal?: AbortSignal): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function auditLines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event !== 'audit_anchor'); // each chained file opens with an anchor line
}

/** Poll until `check` holds (generous deadline: CPUs are shared). */
export async function waitFor(check: () => boolean, timeoutMs = 15000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(25);
  }
  return check();
}
