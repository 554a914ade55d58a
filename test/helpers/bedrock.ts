/**
 * Shared set-up for the Bedrock provider tests: the mock Bedrock Runtime and control plane, a gateway in
 * front of it (auth with a key secret, the outcome recorder, static workspaces), workspace
 * SigV4 credentials and a signer for them, and real `@aws-sdk/client-bedrock-runtime`
 * clients over HTTP/2 (the SDK's default handler) or HTTP/1.1.
 */
import { createHash, createHmac } from 'node:crypto';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { makeWorkspaceKey } from '../../filters/auth/keys.js';
import { startGateway, type TestGateway } from './gateway.js';
import { OUTCOME_RECORDER_PATH } from './outcome-recorder.js';
import { BedrockMock, type MockCredentials } from '../mocks/bedrock-mock.js';

export const GATEWAY_CREDS: MockCredentials = { accessKeyId: 'AKIAGATEWAYEXAMPLE01', secretAccessKey: 'gateway/secret+key/0000000000000000000000' };
export const KEY_SECRET = 'test-key-secret-0123456789abcdef';
export const WORKSPACE = 'ws-bedrock-1';
export const WORKSPACE_KEY = makeWorkspaceKey(KEY_SECRET, WORKSPACE);
/** The seed's Sonnet id (a `:` to encode) and a profile ARN (a `/` to encode). */
export const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';
export const PROFILE_ARN = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface BedrockSetup {
  mock: BedrockMock;
  /** The control-plane mock (`control_base_url`), its credentials the Runtime mock's. */
  control: BedrockMock;
  gw: TestGateway;
  /** What a client's Bedrock endpoint is set to. */
  endpoint: string;
}

export interface SetupOptions {
  /** Lines for the provider entry, indented four spaces; replaces the static keys when `credentials` is given. */
  providerYaml?: string;
  /** Static gateway credentials in the provider entry (default: {@link GATEWAY_CREDS}); null for none. */
  credentials?: MockCredentials | null;
  /** Extra mock credentials to accept. */
  mockCredentials?: MockCredentials[];
  requireKeys?: boolean;
  /** Extra filter entries (YAML, indented two spaces) after auth. */
  filtersYaml?: string;
  /** Extra top-level YAML sections (`rate_limits:` …). */
  extraYaml?: string;
}

export async function startBedrock(t: Teardown, options: SetupOptions = {}): Promise<BedrockSetup> {
  const creds = options.credentials === undefined ? GATEWAY_CREDS : options.credentials;
  const mock = await BedrockMock.start([...(creds ? [creds] : []), ...(options.mockCredentials ?? [])]);
  t.teardown(() => mock.close());
  const control = await BedrockMock.start([...(creds ? [creds] : []), ...(options.mockCredentials ?? [])], { api: 'control' });
  t.teardown(() => control.close());
  const yaml = [
    'providers:',
    '  bedrock:',
    '    region: us-east-1',
    `    base_url: ${mock.url}`,
    `    control_base_url: ${control.url}`,
    ...(creds ? [`    access_key_id: "${creds.accessKeyId}"`, `    secret_access_key: "${creds.secretAccessKey}"`, ...(creds.sessionToken ? [`    session_token: "${creds.sessionToken}"`] : [])] : []),
    options.providerYaml ?? '',
    'filters:',
    '  - name: auth',
    '    config:',
    `      key_secret: "${KEY_SECRET}"`,
    `      require_keys: ${options.requireKeys ?? false}`,
    options.filtersYaml ?? '',
    '  - name: recorder',
    `    plugin: ${OUTCOME_RECORDER_PATH}`,
    'workspaces:',
    `  ${WORKSPACE}:`,
    '    user: alice',
    '    project: webide',
    options.extraYaml ?? '',
    '',
  ].join('\n');
  const gw = await startGateway(t, yaml);
  return { mock, control, gw, endpoint: `${gw.url}/v1/bedrock` };
}

export type Transport = 'h2' | 'h1';

/** A real SDK client for `endpoint`, signing as the workspace unless told otherwise; destroyed with the test. */
export function sdkClient(t: Teardown, endpoint: string, transport: Transport, config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: WORKSPACE, secretAccessKey: WORKSPACE_KEY },
    maxAttempts: 1,
    ...(transport === 'h1' ? { requestHandler: new NodeHttpHandler() } : {}),
    ...config,
  });
  t.teardown(() => client.destroy());
  return client;
}

/** An Anthropic-on-Bedrock InvokeModel body. */
export function anthropicBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }], ...extra });
}

function bytes(data: SourceData): string | Uint8Array {
  return typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** SHA-256 (and HMAC-SHA-256 given a secret) for a `SignatureV4` signer, from node:crypto (what `@smithy/hash-node` wraps). */
export class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/** A signer with the workspace's SigV4 pair, as the AWS SDKs sign for Bedrock: service `bedrock`, the path escaped again. */
export function workspaceSigner(): SignatureV4 {
  return new SignatureV4({ credentials: { accessKeyId: WORKSPACE, secretAccessKey: WORKSPACE_KEY }, region: 'us-east-1', service: 'bedrock', sha256: Sha256, uriEscapePath: true });
}
