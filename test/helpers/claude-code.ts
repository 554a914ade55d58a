/**
 * A gateway set up as a Claude Code deployment runs it: workspace keys required, the
 * default chain's rate limits, an audit file and the validator at the shipped config's
 * settings, in front of the Anthropic mock. Claude Code sends the workspace key as
 * `x-api-key` (ANTHROPIC_API_KEY) or `Authorization: Bearer` (ANTHROPIC_AUTH_TOKEN).
 */
import path from 'node:path';
import { makeWorkspaceKey } from '../../filters/auth/keys.js';
import { startGateway, type TestGateway } from './gateway.js';
import { GATEWAY_KEY } from './anthropic.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { auditLines } from '../filters/fixtures.js';

export const CC_SECRET = 'claude-code-secret-0123456789abcdef';
export const CC_WORKSPACE = 'ws-cc';
export const CC_KEY = makeWorkspaceKey(CC_SECRET, CC_WORKSPACE);

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ClaudeCodeSetup {
  mock: AnthropicMock;
  gw: TestGateway;
  /** What ANTHROPIC_BASE_URL is set to. */
  base: string;
  /** The audit file's request lines so far. */
  audit(): Array<Record<string, unknown>>;
}

export async function startClaudeCodeGateway(t: Teardown): Promise<ClaudeCodeSetup> {
  const mock = await AnthropicMock.start({ apiKey: GATEWAY_KEY });
  t.teardown(() => mock.close());
  const yaml = `providers:
  anthropic:
    api_key: "${GATEWAY_KEY}"
    base_url: ${mock.url}
filters:
  - name: auth
    config:
      require_keys: true
      key_secret: "${CC_SECRET}"
  - name: cost
  - name: rate-limit
  - name: audit
    config:
      stdout: false
      file: audit.log
      flush_interval_ms: 20
  - name: validator
    config:
      max_tokens: 64000
      max_tokens_action: reject
      models: ["*"]
workspaces:
  ${CC_WORKSPACE}:
    user: dev1
    project: webide
rate_limits:
  global: { requests_per_minute: 1000, tokens_per_minute: 1000000 }
  default: { requests_per_minute: 60, tokens_per_minute: 100000 }
`;
  const gw = await startGateway(t, yaml);
  const file = path.join(gw.dir, 'audit.log');
  return { mock, gw, base: `${gw.url}/v1/claude`, audit: () => auditLines(file) };
}
