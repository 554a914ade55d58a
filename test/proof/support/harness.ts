/**
 * The gateway the proof suites run against: Anthropic, OpenAI and Bedrock providers all
 * pointed at one {@link ScriptedUpstream}, the auth filter with known workspaces and keys,
 * the audit filter writing to a file and the outcome recorder; plus clients that send one
 * request in a given dialect, and readers for audit lines and metric samples.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { ScriptedUpstream } from './upstream.js';

/** Every secret the gateway holds in these suites; none may appear in a response, a log line or an audit line. */
export const SECRETS = {
  anthropic: 'sk-ant-proof-UPSTREAMKEY-0000000000000000',
  openai: 'sk-proof-openai-UPSTREAMKEY-000000000000',
  awsSecret: 'proofAwsSecret/0000000000000000000000000000',
  keySecret: 'proof-key-secret-0123456789abcdef',
};
export const AWS_KEY_ID = 'AKIAPROOFGATEWAY0001';
export const WORKSPACE = 'ws-proof-1';
export const OTHER_WORKSPACE = 'ws-proof-2';
export const WORKSPACE_KEY = makeWorkspaceKey(SECRETS.keySecret, WORKSPACE);
export const OTHER_KEY = makeWorkspaceKey(SECRETS.keySecret, OTHER_WORKSPACE);
export const ALL_SECRETS = [...Object.values(SECRETS), WORKSPACE_KEY, OTHER_KEY];

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Proof extends TestGateway {
  upstream: ScriptedUpstream;
  audit(): Array<Record<string, unknown>>;
  metrics(): Promise<string>;
}

const TIMEOUTS = '    resilience: { timeouts: { headers_ms: 500, idle_ms: 500 } }';

export async function startProof(t: Teardown, extra: { server?: string; filters?: string } = {}): Promise<Proof> {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const yaml = `server:
  host: 127.0.0.1
  drain_timeout_ms: 1000
  max_body_bytes: 262144
  max_header_bytes: 8192
${extra.server ?? ''}
providers:
  anthropic:
    api_key: ${SECRETS.anthropic}
    base_url: ${upstream.url}
${TIMEOUTS}
  openai:
    api_key: ${SECRETS.openai}
    base_url: ${upstream.url}
${TIMEOUTS}
  bedrock:
    region: us-east-1
    base_url: ${upstream.url}
    access_key_id: ${AWS_KEY_ID}
    secret_access_key: ${SECRETS.awsSecret}
${TIMEOUTS}
  echo: { models: [echo-1] }
filters:
  - name: auth
    config:
      key_secret: ${SECRETS.keySecret}
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
  - name: audit
    config:
      stdout: false
      file: audit.log
      flush_interval_ms: 10
${extra.filters ?? ''}
workspaces:
  ${WORKSPACE}: { user: alice, project: proof }
  ${OTHER_WORKSPACE}: { user: bob, project: proof }
`;
  const gw = await startGateway(t, yaml);
  const file = path.join(gw.dir, 'audit.log');
  return {
    ...gw,
    upstream,
    audit: () => {
      try {
        return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    metrics: async () => (await fetch(`${gw.url}/metrics`)).text(),
  };
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export type Dialect = 'anthropic' | 'openai' | 'bedrock';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  bytes: number;
}

const BEDROCK_MODEL = 'anthropic.claude-3-haiku-20240307-v1%3A0';

/** One request in `dialect` (Anthropic pass-through, the unified endpoint, Bedrock pass-through) as the workspace. */
export async function ask(url: string, dialect: Dialect, id: string, stream = false, keepText = true): Promise<Answer> {
  const messages = [{ role: 'user', content: 'hi' }];
  const [p, body] =
    dialect === 'anthropic'
      ? ['/v1/claude/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream, messages }]
      : dialect === 'openai'
        ? ['/v1/chat/completions', { model: 'claude-sonnet-4-5', stream, messages }]
        : [`/v1/bedrock/model/${BEDROCK_MODEL}/${stream ? 'invoke-with-response-stream' : 'invoke'}`, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages }];
  const res = await request(url + p, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-workspace-id': WORKSPACE }, body: JSON.stringify(body) });
  let text = '';
  let bytes = 0;
  try {
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      if (keepText) text += (chunk as Buffer).toString('utf8');
    }
  } catch {
    // a body the gateway cut: what arrived is what the client got
  }
  return { status: res.statusCode, headers: res.headers, text, bytes };
}

/** The audit line of request `id`, once written. */
export async function auditLine(proof: Proof, id: string, timeoutMs = 5000): Promise<Record<string, unknown> | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const line = proof.audit().find((l) => l.request_id === id);
    if (line || Date.now() > end) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
}
