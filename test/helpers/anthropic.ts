/**
 * Shared set-up for the Anthropic provider tests: a mock Messages API, a gateway in
 * front of it with the outcome recorder loaded, and a raw HTTP client that sends a path
 * exactly as written (fetch would normalise `%2e%2e` away before the gateway saw it).
 */
import http from 'node:http';
import { startGateway, type TestGateway } from './gateway.js';
import { OUTCOME_RECORDER_PATH } from './outcome-recorder.js';
import { AnthropicMock, type MockOptions } from '../mocks/anthropic-mock.js';

export const GATEWAY_KEY = 'sk-ant-gateway-0000000000000000';
export const CLIENT_KEY = 'sk-ant-client-1111111111111111';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface AnthropicSetup {
  mock: AnthropicMock;
  gw: TestGateway;
  /** Gateway URL plus the route prefix: what `ANTHROPIC_BASE_URL` is set to. */
  base: string;
}

/** `providerYaml`: extra lines for the provider entry, indented four spaces. */
export async function startAnthropic(t: Teardown, options: { providerYaml?: string; basePath?: string; mock?: Partial<MockOptions>; apiKey?: string } = {}): Promise<AnthropicSetup> {
  const mock = await AnthropicMock.start({ apiKey: GATEWAY_KEY, ...options.mock });
  t.teardown(() => mock.close());
  const yaml = [
    'providers:',
    '  anthropic:',
    `    api_key: "${options.apiKey ?? GATEWAY_KEY}"`,
    `    base_url: ${mock.url}${options.basePath ?? ''}`,
    options.providerYaml ?? '',
    'filters:',
    '  - name: recorder',
    `    plugin: ${OUTCOME_RECORDER_PATH}`,
    '',
  ].join('\n');
  const gw = await startGateway(t, yaml);
  return { mock, gw, base: `${gw.url}/v1/claude` };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the path sent verbatim. */
export function raw(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A minimal valid Messages body. */
export function messagesBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }], ...extra });
}
