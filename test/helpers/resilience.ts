/**
 * Set-up for the resilience tests: fault-injecting Anthropic upstreams and a gateway in
 * front of them with the outcome recorder and the audit filter (writing to a file), plus a
 * client that reads a whole response, streamed or not, and its request id.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { FaultMock } from '../mocks/fault-mock.js';
import { startGateway, type TestGateway } from './gateway.js';
import { OUTCOME_RECORDER_PATH } from './outcome-recorder.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function startMocks(t: Teardown, ...names: string[]): Promise<FaultMock[]> {
  const mocks = await Promise.all(names.map((n) => FaultMock.start(n)));
  t.teardown(() => Promise.all(mocks.map((m) => m.close())));
  return mocks;
}

/** An `anthropic`-type provider entry, with `extra` lines (indented four spaces) such as a resilience block. */
export function anthropicEntry(name: string, url: string, extra = ''): string {
  return [`  ${name}:`, '    type: anthropic', '    api_key: sk-test', `    base_url: ${url}`, extra].filter(Boolean).join('\n');
}

/** A gateway with `providers` (entries from {@link anthropicEntry}) and `rest` (routes, models). */
export async function startResilient(t: Teardown, providers: string[], rest = ''): Promise<TestGateway & { audit(): Array<Record<string, unknown>> }> {
  const yaml = `providers:
${providers.join('\n')}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
  - name: audit
    config:
      stdout: false
      file: audit.log
      flush_interval_ms: 10
${rest}
`;
  const gw = await startGateway(t, yaml);
  const file = path.join(gw.dir, 'audit.log');
  return {
    ...gw,
    audit: () => {
      try {
        return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Milliseconds from sending to the end of the body. */
  ms: number;
  id: string;
}

let counter = 0;

/** POST a Messages body to `url`; the body is read whole, a stream cut short included. */
export async function send(url: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const id = `res-${process.pid}-${++counter}`;
  const started = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // a stream the gateway cut: what arrived is enough for the test
  }
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - started, id };
}

/** The `error` events of an SSE text, parsed. */
export function errorEvents(sse: string): Array<{ type: string; error: { type: string; message: string } }> {
  return sse
    .split('\n\n')
    .filter((block) => block.startsWith('event: error'))
    .map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { type: string; error: { type: string; message: string } });
}
