/**
 * Shared set-up for the upload tests: an Anthropic mock (and, when asked, an OpenAI one)
 * whose file endpoints count bytes into an `UploadSink`, and a gateway in front of them
 * with the outcome recorder loaded last in its chain.
 */
import { startGateway, type TestGateway } from './gateway.js';
import { OUTCOME_RECORDER_PATH } from './outcome-recorder.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { OpenAIMock } from '../mocks/openai-mock.js';
import { UploadSink } from '../mocks/upload-sink.js';

export const ANTHROPIC_KEY = 'sk-ant-gateway-0000000000000000';
export const OPENAI_KEY = 'sk-openai-gateway-00000000000000';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UploadGatewayOptions {
  /** Lines under `server:`, indented two spaces. */
  server?: string;
  /** Extra lines for the anthropic provider entry, indented four spaces. */
  anthropicYaml?: string;
  /** Also an OpenAI mock with a sink of its own, as the `openai` provider. */
  openai?: boolean;
  /** Filter entries before the recorder, indented two spaces. */
  filters?: string;
  /** Top-level YAML after the filters (identities and the like). */
  extra?: string;
}

export interface UploadGateway {
  anthropic: AnthropicMock;
  sink: UploadSink;
  /** Set when `openai` was asked for. */
  openai?: OpenAIMock;
  openaiSink?: UploadSink;
  gw: TestGateway;
}

export async function startUploadGateway(t: Teardown, options: UploadGatewayOptions = {}): Promise<UploadGateway> {
  const anthropic = await AnthropicMock.start({ apiKey: ANTHROPIC_KEY });
  const sink = (anthropic.uploadSink = new UploadSink());
  t.teardown(() => anthropic.close());
  const openai = options.openai ? await OpenAIMock.start({ apiKey: OPENAI_KEY }) : undefined;
  const openaiSink = openai ? (openai.uploadSink = new UploadSink()) : undefined;
  if (openai) t.teardown(() => openai.close());
  const yaml = [
    ...(options.server ? ['server:', options.server] : []),
    'providers:',
    '  anthropic:',
    `    api_key: ${ANTHROPIC_KEY}`,
    `    base_url: ${anthropic.url}`,
    options.anthropicYaml ?? '',
    ...(openai ? ['  openai:', `    api_key: ${OPENAI_KEY}`, `    base_url: ${openai.url}`] : []),
    'filters:',
    options.filters ?? '',
    '  - name: recorder',
    `    plugin: ${OUTCOME_RECORDER_PATH}`,
    options.extra ?? '',
    '',
  ].join('\n');
  const gw = await startGateway(t, yaml);
  return { anthropic, sink, openai, openaiSink, gw };
}
