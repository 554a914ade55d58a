/**
 * A scriptable Anthropic Messages upstream on 127.0.0.1:0 for the resilience tests: each
 * `POST /v1/messages` takes the next {@link Fault} from `script` (or `fallback` when the
 * script is empty) — a normal answer (JSON or SSE), an error status, a reset before the
 * head, a stall before the head, or a stream that stalls or resets after some events.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  | { kind: 'ok'; delayMs?: number; eventDelayMs?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'stall-body'; after: number }
  | { kind: 'reset-body'; after: number };

export const USAGE = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

export class FaultMock {
  /** Faults for the next requests, in order. */
  readonly script: Fault[] = [];
  /** What a request gets once the script is empty. */
  fallback: Fault = { kind: 'ok' };
  /** Messages requests received. */
  hits = 0;
  /** Requests being handled now, and the most seen at once. */
  active = 0;
  peak = 0;
  private readonly server: http.Server;

  private constructor(readonly name: string) {
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(name = 'mock'): Promise<FaultMock> {
    const mock = new FaultMock(name);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
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
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no route' } });
    this.hits++;
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    res.on('close', () => this.active--);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string; stream?: boolean };
    const fault = this.script.shift() ?? this.fallback;
    const model = body.model ?? 'claude-sonnet-4-5';
    switch (fault.kind) {
      case 'reset':
        return void req.socket.destroy();
      case 'stall':
        return; // never answers; the connection closes when the gateway gives up
      case 'status':
        if (fault.delayMs) await sleep(fault.delayMs);
        for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
        return json(res, fault.status, { type: 'error', error: { type: fault.status === 429 ? 'rate_limit_error' : 'overloaded_error', message: `${this.name} says ${fault.status}` } });
      case 'ok':
        if (fault.delayMs) await sleep(fault.delayMs);
        if (!body.stream) {
          return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: `from ${this.name}` }], stop_reason: 'end_turn', stop_sequence: null, usage: USAGE });
        }
        return this.stream(res, model, fault.eventDelayMs ?? 0, undefined);
      default:
        return this.stream(res, model, 0, fault);
    }
  }

  private async stream(res: http.ServerResponse, model: string, delayMs: number, cut: Extract<Fault, { after: number }> | undefined): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const events: Array<[string, unknown]> = [
      ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...USAGE, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ...['from ', this.name, ' word ', 'by ', 'word'].map((text): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }]),
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: USAGE }],
      ['message_stop', { type: 'message_stop' }],
    ];
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (cut && i === cut.after) {
        // Let what was written reach the client first: destroy() drops unsent bytes.
        if (cut.kind === 'reset-body') await sleep(50).then(() => res.socket?.destroy());
        return; // stall-body: hold the connection open
      }
      if (i > 0 && delayMs > 0) await sleep(delayMs);
      res.write(`event: ${events[i][0]}\ndata: ${JSON.stringify(events[i][1])}\n\n`);
    }
    res.end();
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
