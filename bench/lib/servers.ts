/**
 * The three servers most benchmarks compare: the mock upstream (core 1), the bare proxy
 * and one gateway (core 0), started and waited for. The gateway gets `${AI_GATEWAY_PORT}`,
 * `${MOCK_UPSTREAM}`, `${AUDIT_FILE}` and ANTHROPIC_API_KEY for its config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/ports.js';
import { gatewayEntry, listeningPort, SERVER_NODE_FLAGS, spawnPinned, waitFor200, type Started } from './proc.js';
import { messagesBody, shapedModel, type StreamShape } from './requests.js';
import type { Target } from './load.js';

const lib = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(lib, '../..');

/** What an Anthropic client sends the gateway beside its body (static workspace auth). */
export const GATEWAY_HEADERS: Readonly<Record<string, string>> = { 'x-workspace-id': 'ws-bench', 'anthropic-version': '2023-06-01' };

export interface BenchServers {
  mockUrl: string;
  bare: Started;
  /** The bare proxy's Messages URL. */
  bareUrl: string;
  gateway: Started;
  /** The gateway's Anthropic pass-through Messages URL. */
  gatewayUrl: string;
  /** Stop all three. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Gateway config file; default bench/gateway.yaml. */
  config?: string;
  /** Gateway entry point; default this checkout's command (`gatewayEntry`). */
  gateway?: string;
  /** Node flags for the bare proxy and the gateway (e.g. `--inspect=127.0.0.1:0`). */
  nodeFlags?: string[];
}

/** The environment bench/gateway.yaml (and the chain benches' configs) read: port, mock, key and audit file. */
export function benchGatewayEnv(port: number, mockUrl: string, auditFile: string): NodeJS.ProcessEnv {
  return { AI_GATEWAY_PORT: String(port), MOCK_UPSTREAM: mockUrl, ANTHROPIC_API_KEY: 'sk-bench', AUDIT_FILE: auditFile };
}

export async function startServers(opts: ServerOptions = {}): Promise<BenchServers> {
  const started: Started[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bench-'));
  const stop = async (): Promise<void> => {
    for (const p of started) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const flags = [...SERVER_NODE_FLAGS, ...(opts.nodeFlags ?? [])];
    const mock = spawnPinned(1, ['--import=tsx', path.join(lib, 'mock-upstream.ts'), '0']);
    started.push(mock);
    const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
    const bare = spawnPinned(0, [...flags, '--import=tsx', path.join(lib, 'bare-proxy.ts'), mockUrl, '0']);
    started.push(bare);
    const bareUrl = `http://127.0.0.1:${await listeningPort(bare)}/v1/messages`;
    const port = await freePort();
    const gateway = spawnPinned(0, [...flags, path.resolve(opts.gateway ?? gatewayEntry(root)), '--config', path.resolve(opts.config ?? path.join(root, 'bench/gateway.yaml'))], benchGatewayEnv(port, mockUrl, path.join(dir, 'audit.jsonl')));
    started.push(gateway);
    const gatewayUrl = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
    await waitFor200(gatewayUrl, { method: 'POST', body: messagesBody(1024), headers: { 'content-type': 'application/json', ...GATEWAY_HEADERS } });
    return { mockUrl, bare, bareUrl, gateway, gatewayUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One proxy as a stream benchmark drives it. */
export interface StreamArm {
  name: 'bare' | 'gateway';
  url: string;
  headers: Record<string, string>;
  pid: number;
  /** OpenAI streams, which the gateway's unified endpoint takes: the stream's shape goes in the model's name. */
  unified: boolean;
}

/** Where the bare proxy takes an OpenAI chat request, from its Messages URL: the mock's path, passed through. */
export const bareChatUrl = (bareMessagesUrl: string): string => bareMessagesUrl.replace('/v1/messages', '/v1/chat/completions');

/** Where the gateway takes an OpenAI chat request: its unified endpoint. */
export const gatewayChatUrl = (gatewayMessagesUrl: string): string => new URL('/v1/chat/completions', gatewayMessagesUrl).href;

/** The bare proxy and the gateway, for Anthropic streams passed through or (`unified`) OpenAI ones. */
export function streamArms(s: BenchServers, unified: boolean): StreamArm[] {
  return [
    { name: 'bare', url: unified ? bareChatUrl(s.bareUrl) : s.bareUrl, headers: {}, pid: s.bare.pid, unified },
    { name: 'gateway', url: unified ? gatewayChatUrl(s.gatewayUrl) : s.gatewayUrl, headers: { ...GATEWAY_HEADERS }, pid: s.gateway.pid, unified },
  ];
}

/** A 1 KB streamed request through `arm`; send it with `shapeHeaders(shape)`, which a unified arm's model name stands in for. */
export function streamTarget(arm: StreamArm, shape: StreamShape): Target {
  return { url: arm.url, headers: arm.headers, body: messagesBody(1024, true, arm.unified ? shapedModel(shape) : undefined), tagInBody: arm.unified };
}
