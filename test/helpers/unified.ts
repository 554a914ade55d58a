/**
 * Set-up for the unified-endpoint tests: an Anthropic mock, an OpenAI mock and a
 * Mistral-shaped mock, and one gateway in front of all three (plus `echo`, which cannot
 * chat), with the outcome recorder and a filter that can answer 429 itself.
 */
import OpenAI from 'openai';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { OpenAIMock } from '../mocks/openai-mock.js';
import { startGateway, type TestGateway } from './gateway.js';
import { OUTCOME_RECORDER_PATH } from './outcome-recorder.js';
import { REJECT_FILTER_PATH } from './reject-filter.js';

export const ANTHROPIC_KEY = 'sk-ant-gateway-0000000000000000';
export const OPENAI_KEY = 'sk-openai-gateway-00000000000000';
export const MISTRAL_KEY = 'mistral-gateway-000000000000000';
export const CLIENT_KEY = 'sk-client-should-never-leave-0000';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UnifiedSetup {
  anthropic: AnthropicMock;
  openai: OpenAIMock;
  mistral: OpenAIMock;
  gw: TestGateway;
  /** An `openai` SDK client aimed at the gateway's unified endpoint. */
  client(headers?: Record<string, string>): OpenAI;
}

export async function startUnified(t: Teardown, extraYaml = ''): Promise<UnifiedSetup> {
  const anthropic = await AnthropicMock.start({ apiKey: ANTHROPIC_KEY });
  const openai = await OpenAIMock.start({ apiKey: OPENAI_KEY });
  const mistral = await OpenAIMock.start({ apiKey: MISTRAL_KEY, compat: 'mistral' });
  t.teardown(() => Promise.all([anthropic.close(), openai.close(), mistral.close()]));
  const yaml = `
providers:
  anthropic:
    api_key: ${ANTHROPIC_KEY}
    base_url: ${anthropic.url}
    default_max_tokens: 2048
  openai:
    api_key: ${OPENAI_KEY}
    base_url: ${openai.url}
  mistral:
    type: openai
    base_url: ${mistral.url}
    api_key: ${MISTRAL_KEY}
    stream_include_usage: false
    models: [mistral-large-latest]
    model_patterns: ['mistral-*', 'open-mistral-*', 'codestral-*']
  echo:
    models: [echo-1]
models:
  aliases:
    claude-sonnet: { provider: anthropic, model: claude-sonnet-4-5 }
    fast: { provider: openai, model: gpt-4o-mini }
  rules:
    - { match: 'house-*', provider: mistral }
filters:
  - name: reject
    plugin: ${REJECT_FILTER_PATH}
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
${extraYaml}`;
  const gw = await startGateway(t, yaml);
  return {
    anthropic,
    openai,
    mistral,
    gw,
    client: (headers = {}) => new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0, defaultHeaders: headers }),
  };
}
