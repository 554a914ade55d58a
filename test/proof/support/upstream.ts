/**
 * One scriptable upstream on 127.0.0.1:0 for the proof suites, standing in for Anthropic,
 * OpenAI and Bedrock at once (each provider's base_url points here): every request is
 * recorded (method, raw target, headers, body) so a suite can assert nothing arrived that
 * should not, and is answered by the next scripted {@link Reply} or a normal answer in the
 * shape its path asks for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A scripted answer: it owns the response (and may destroy the socket). */
export type Reply = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

export const USAGE = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
const codec = new EventStreamCodec(toUtf8, fromUtf8);

export class ScriptedUpstream {
  readonly seen: Seen[] = [];
  readonly script: Reply[] = [];
  private readonly server: http.Server;

  private constructor() {
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(): Promise<ScriptedUpstream> {
    const u = new ScriptedUpstream();
    await new Promise<void>((resolve) => u.server.listen(0, '127.0.0.1', resolve));
    return u;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const reply = this.script.shift() ?? normal;
    await reply(req, res, body);
  }
}

function wantsStream(req: http.IncomingMessage, body: Buffer): boolean {
  if (req.url?.includes('-stream')) return true;
  try {
    return (JSON.parse(body.toString('utf8')) as { stream?: boolean }).stream === true;
  } catch {
    return false;
  }
}

export function json(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The events of a whole Anthropic Messages stream. */
export function anthropicEvents(text = 'hello from upstream'): string[] {
  const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    ev('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { ...USAGE, output_tokens: 1 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...text.split(' ').map((w) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w + ' ' } })),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: USAGE }),
    ev('message_stop', { type: 'message_stop' }),
  ];
}

/** The frames of a whole InvokeModelWithResponseStream answer (Anthropic model events). */
export function bedrockFrames(): Uint8Array[] {
  const chunk = (e: unknown): Uint8Array =>
    codec.encode({
      headers: { ':event-type': { type: 'string', value: 'chunk' }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'event' } },
      body: fromUtf8(JSON.stringify({ bytes: Buffer.from(JSON.stringify(e)).toString('base64') })),
    });
  return [
    chunk({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], usage: { input_tokens: 10, output_tokens: 1 } } }),
    chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello' } }),
    chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }),
    chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 10, outputTokenCount: 5 } }),
  ];
}

/** A normal answer in the shape the path asks for. */
export const normal: Reply = (req, res, body) => {
  const path = (req.url ?? '').split('?')[0];
  const stream = wantsStream(req, body);
  if (path.startsWith('/model/')) {
    if (!stream) return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hello' }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } });
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    for (const f of bedrockFrames()) res.write(f);
    return void res.end();
  }
  if (path === '/v1/chat/completions') {
    return json(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
  }
  if (path === '/v1/messages') {
    if (!stream) return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hello from upstream' }], stop_reason: 'end_turn', stop_sequence: null, usage: USAGE });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const e of anthropicEvents()) res.write(e);
    return void res.end();
  }
  json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } });
};

// Faults, one reply each.
export const status = (code: number, headers: Record<string, string> = {}): Reply => (_req, res) => json(res, code, { type: 'error', error: { type: code === 429 ? 'rate_limit_error' : 'overloaded_error', message: `upstream says ${code}` } }, headers);
export const resetBeforeHead: Reply = (req) => void req.socket.destroy();
export const stallHead: Reply = () => undefined; // holds the connection until the gateway gives up
/** Whole SSE events, then `after` says what happens: reset, stall, or a clean end mid-event. */
export const sseThen = (after: 'reset' | 'stall' | 'truncate', events = 3): Reply => async (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  for (const e of anthropicEvents().slice(0, events)) res.write(e);
  if (after === 'truncate') return void res.end('event: content_block_delta\ndata: {"type":"content_bl');
  if (after === 'reset') await sleep(50).then(() => res.socket?.destroy()); // let the events reach the gateway first
};
/** A Bedrock event stream cut in the middle of a frame, ended cleanly. */
export const truncatedFrames: Reply = (_req, res) => {
  const frames = bedrockFrames();
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  res.write(frames[0]);
  res.end(Buffer.from(frames[1]).subarray(0, 20));
};
/** The head of a whole JSON answer (its content-length), half the body, then the socket reset. */
export const jsonThenReset: Reply = async (_req, res) => {
  const text = JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hello from upstream' }], stop_reason: 'end_turn', stop_sequence: null, usage: USAGE });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.write(text.slice(0, text.length >> 1));
  await sleep(50).then(() => res.socket?.destroy()); // let the half reach the gateway first
};
export const malformedJson: Reply = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"id":"msg_1","type":"message","content":[{"type":"text","te');
};
/** `mib` MiB: one JSON string, streamed in 64 KiB writes with back-pressure. */
export const enormous = (mib: number): Reply => async (_req, res) => {
  const pieces = mib * 16;
  const piece = Buffer.alloc(64 * 1024, 0x61);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(pieces * piece.length) });
  for (let i = 0; i < pieces; i++) {
    const out = i === 0 || i === pieces - 1 ? Buffer.from(piece) : piece;
    if (i === 0) out[0] = 0x22;
    if (i === pieces - 1) out[out.length - 1] = 0x22;
    if (!res.write(out)) await new Promise((r) => res.once('drain', r));
    if (res.destroyed) return;
  }
  res.end();
};
