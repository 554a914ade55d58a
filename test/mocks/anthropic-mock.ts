/**
 * A local stand-in for the Anthropic API on 127.0.0.1:0, faithful where the gateway can
 * tell: it checks `x-api-key` and `anthropic-version` like the real API, answers Messages
 * as JSON or as the real SSE sequence (`message_start`, content blocks with `ping`,
 * `text_delta` / `input_json_delta`, `message_delta` with cumulative usage incl. cache
 * tokens, `message_stop`), can script an agent turn (call a named tool, then answer the
 * `tool_result` with text), and records every request it receives byte for byte.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UploadSink } from './upload-sink.js';

export interface RecordedRequest {
  method: string;
  /** The raw request target, query included, exactly as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() when the head arrived. */
  receivedAt: number;
  /** performance.now() when the connection or response closed; set once it does. */
  closedAt?: number;
  /** Resolves when the response closed (finished or cut). */
  closed: Promise<void>;
}

export interface MockUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** The writes by cache lifetime, as the API reports them beside the total. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

export interface MockOptions {
  /** The key the mock accepts; anything else gets 401. */
  apiKey: string;
  /** Pause before each SSE event after the first (ms). */
  eventDelayMs?: number;
  usage?: MockUsage;
}

export const DEFAULT_USAGE: MockUsage = { input_tokens: 1234, output_tokens: 56, cache_creation_input_tokens: 300, cache_read_input_tokens: 2000 };

export class AnthropicMock {
  readonly requests: RecordedRequest[] = [];
  eventDelayMs: number;
  usage: MockUsage;
  /** When set, a JSON answer never comes, and a stream sends `message_start` then holds the connection open. */
  hold = false;
  /** Text the assistant answers with, one `text_delta` per word. */
  text = 'Hello from the mock. It streams word by word.';
  /** When set, the next Messages request gets this error answer (Anthropic's shape) instead. */
  nextError: { status: number; type: string; message: string; headers?: Record<string, string> } | undefined;
  /** When set, answers (JSON and streams) end with this `stop_reason` instead of `end_turn` / `tool_use`. */
  stopReason: string | undefined;
  /** Extra headers on every 200 Messages answer (a `cache-control` the upstream sends). */
  answerHeaders: Record<string, string> = {};
  /** When set, uploads (`POST /v1/files`) are counted here, not kept (multipart unread). */
  uploadSink: UploadSink | undefined;
  /**
   * When set, the tool the assistant calls (if the request offers it) with this input, as an
   * agent turn: once the conversation's last message carries a `tool_result`, the answer is
   * text. Unset, a request offering tools gets a call to its first tool every time.
   */
  scriptedTool: { name: string; input: Record<string, unknown> } | undefined;
  private readonly server: http.Server;

  private constructor(private readonly opts: MockOptions) {
    this.eventDelayMs = opts.eventDelayMs ?? 0;
    this.usage = opts.usage ?? DEFAULT_USAGE;
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(opts: MockOptions): Promise<AnthropicMock> {
    const mock = new AnthropicMock(opts);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let markClosed!: () => void;
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.alloc(0),
      receivedAt: performance.now(),
      closed: new Promise<void>((r) => (markClosed = r)),
    };
    this.requests.push(record);
    res.on('close', () => {
      record.closedAt = performance.now();
      markClosed();
    });
    if (this.uploadSink && req.method === 'POST' && record.url.split('?')[0] === '/v1/files') {
      // Refused at once, as the API does, without waiting for the file.
      if (req.headers['x-api-key'] !== this.opts.apiKey) return error(res, 401, 'authentication_error', 'invalid x-api-key');
      return this.uploadSink.receive(req, res, (bytes) => ({
        type: 'file', id: `file_sunk${this.uploadSink!.uploads.length}`, filename: 'upload', mime_type: 'application/octet-stream', size_bytes: bytes, created_at: '2026-01-01T00:00:00Z', downloadable: false,
      }));
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    record.body = Buffer.concat(chunks);

    const path = record.url.split('?')[0];
    if (req.headers['x-api-key'] !== this.opts.apiKey) return error(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');

    if (req.method === 'POST' && path === '/v1/messages') return this.messages(record.body, res);
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') return json(res, 200, { input_tokens: this.usage.input_tokens });
    if (req.method === 'GET' && path === '/v1/models') {
      return json(res, 200, { data: [{ type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }], has_more: false, first_id: null, last_id: null });
    }
    if (req.method === 'POST' && path === '/api/event_logging/batch') return json(res, 200, {});
    if (path === '/v1/files' || path.startsWith('/v1/files/')) return this.filesApi(req, record, path, res);
    if (req.method === 'POST' && path === '/v1/messages/batches') return this.batch(record.body, res);
    const batchPath = /^\/v1\/messages\/batches\/([\w-]+)(\/results)?$/.exec(path);
    if (req.method === 'GET' && batchPath?.[2]) return this.batchResults(res);
    if (req.method === 'GET' && batchPath) return json(res, 200, this.endedBatch(batchPath[1]));
    if (req.method === 'GET' && path === '/v1/messages/batches') return json(res, 200, { data: [this.endedBatch('msgbatch_mock01')], has_more: false, first_id: 'msgbatch_mock01', last_id: 'msgbatch_mock01' });
    return error(res, 404, 'not_found_error', `no route ${req.method} ${path}`);
  }

  /** Files uploaded through the Files API, by id. */
  readonly storedFiles = new Map<string, { filename: string; mimeType: string; content: Buffer }>();

  /**
   * The Files API (beta): it answers only with `anthropic-beta: files-api-2025-04-14`.
   * An upload is `multipart/form-data` with one `file` part; the metadata answer and the
   * content download (`application/binary`, as the API serves it) are the real shapes.
   */
  private async filesApi(req: http.IncomingMessage, record: RecordedRequest, path: string, res: http.ServerResponse): Promise<void> {
    const betas = String(req.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim());
    if (!betas.includes('files-api-2025-04-14')) return error(res, 400, 'invalid_request_error', 'The Files API requires the anthropic-beta header files-api-2025-04-14');
    const meta = (id: string, f: { filename: string; mimeType: string; content: Buffer }) => ({
      type: 'file', id, filename: f.filename, mime_type: f.mimeType, size_bytes: f.content.length, created_at: '2026-01-01T00:00:00Z', downloadable: true,
    });
    if (req.method === 'POST' && path === '/v1/files') {
      let form: FormData;
      try {
        form = await new Response(record.body, { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
      } catch {
        return error(res, 400, 'invalid_request_error', 'The request body must be multipart/form-data');
      }
      const file = form.get('file');
      if (!(file instanceof Blob)) return error(res, 400, 'invalid_request_error', 'file: Field required');
      const id = `file_mock${String(this.storedFiles.size + 1).padStart(2, '0')}`;
      const entry = { filename: (file as File).name ?? 'upload', mimeType: file.type || 'application/octet-stream', content: Buffer.from(await file.arrayBuffer()) };
      this.storedFiles.set(id, entry);
      return json(res, 200, meta(id, entry));
    }
    const one = /^\/v1\/files\/([\w-]+)(\/content)?$/.exec(path);
    const f = one ? this.storedFiles.get(one[1]) : undefined;
    if (!one || !f || req.method !== 'GET') return error(res, 404, 'not_found_error', `no file at ${req.method} ${path}`);
    if (!one[2]) return json(res, 200, meta(one[1], f));
    res.writeHead(200, { 'content-type': 'application/binary', 'content-length': f.content.length, 'request-id': 'req_mock01' });
    res.end(f.content);
  }

  /** A Message Batch created: the real answer's shape, every request counted as processing. */
  private batch(raw: Buffer, res: http.ServerResponse): void {
    let requests: unknown[];
    try {
      requests = (JSON.parse(raw.toString('utf8')) as { requests: unknown[] }).requests;
    } catch {
      return error(res, 400, 'invalid_request_error', 'invalid JSON');
    }
    json(res, 200, {
      id: 'msgbatch_mock01', type: 'message_batch', processing_status: 'in_progress',
      request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null, created_at: '2026-01-01T00:00:00Z', expires_at: '2026-01-02T00:00:00Z', cancel_initiated_at: null, results_url: null,
    });
  }

  /**
   * A batch that has ended. Like the real API, its `results_url` is absolute, on the
   * API's own origin (here the mock's): a client that follows it goes there directly.
   */
  private endedBatch(id: string): Record<string, unknown> {
    return {
      id, type: 'message_batch', processing_status: 'ended',
      request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 0 },
      ended_at: '2026-01-01T01:00:00Z', created_at: '2026-01-01T00:00:00Z', expires_at: '2026-01-02T00:00:00Z', archived_at: null, cancel_initiated_at: null,
      results_url: `${this.url}/v1/messages/batches/${id}/results`,
    };
  }

  /** A batch's results: JSONL, one line per request, served as `application/binary` as the API does. */
  private batchResults(res: http.ServerResponse): void {
    const line = { custom_id: 'r0', result: { type: 'succeeded', message: { id: 'msg_mock01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: this.text }], stop_reason: 'end_turn', stop_sequence: null, usage: this.usage } } };
    const text = `${JSON.stringify(line)}\n`;
    res.writeHead(200, { 'content-type': 'application/binary', 'content-length': Buffer.byteLength(text), 'request-id': 'req_mock01' });
    res.end(text);
  }

  /** The tool this answer calls, if any, and its input. */
  private toolCall(body: { tools?: Array<{ name: string }>; messages?: Array<{ content?: unknown }> }): { tool: string | undefined; toolInput: Record<string, unknown> } {
    const script = this.scriptedTool;
    if (!script) return { tool: body.tools?.[0]?.name, toolInput: { location: 'Paris, France', unit: 'celsius' } };
    const offered = body.tools?.some((t) => t.name === script.name) === true;
    return { tool: offered && !lastHasToolResult(body.messages) ? script.name : undefined, toolInput: script.input };
  }

  private async messages(raw: Buffer, res: http.ServerResponse): Promise<void> {
    if (this.nextError) {
      const e = this.nextError;
      this.nextError = undefined;
      for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
      return error(res, e.status, e.type, e.message);
    }
    let body: { model?: string; stream?: boolean; tools?: Array<{ name: string }>; messages?: Array<{ content?: unknown }> };
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return error(res, 400, 'invalid_request_error', 'invalid JSON');
    }
    const model = body.model ?? 'claude-sonnet-4-5-20250929';
    const { tool, toolInput } = this.toolCall(body);
    const content = tool
      ? [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_mock01', name: tool, input: toolInput }]
      : [{ type: 'text', text: this.text }];
    const u = this.usage;
    if (!body.stream && this.hold) return;
    const stopReason = this.stopReason ?? (tool ? 'tool_use' : 'end_turn');
    for (const [k, v] of Object.entries(this.answerHeaders)) res.setHeader(k, v);
    if (!body.stream) {
      return json(res, 200, { id: 'msg_mock01', type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: u });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_mock01', ...this.answerHeaders });
    const events: Array<[string, unknown]> = [
      ['message_start', { type: 'message_start', message: { id: 'msg_mock01', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, ...(u.cache_creation ? { cache_creation: u.cache_creation } : {}), output_tokens: 1 } } }],
    ];
    const words = (tool ? 'Let me check.' : this.text).split(/(?<= )/);
    events.push(['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }], ['ping', { type: 'ping' }]);
    for (const w of words) events.push(['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index: 0 }]);
    if (tool) {
      const json = JSON.stringify(toolInput);
      events.push(['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_mock01', name: tool, input: {} } }]);
      for (let i = 0; i < json.length; i += 9) events.push(['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(i, i + 9) } }]);
      events.push(['content_block_stop', { type: 'content_block_stop', index: 1 }]);
    }
    // Two cumulative message_delta events, as long generations can send: a meter that adds would overcount.
    const half = Math.floor(u.output_tokens / 2);
    events.push(
      ['message_delta', { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: half } }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: u.output_tokens } }],
      ['message_stop', { type: 'message_stop' }],
    );

    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (i > 0 && this.eventDelayMs > 0) await sleep(this.eventDelayMs);
      if (i === 1 && this.hold) return; // keep the connection open until the other side closes it
      const [name, data] = events[i];
      res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    }
    res.end();
  }
}

function lastHasToolResult(messages: Array<{ content?: unknown }> | undefined): boolean {
  const content = messages?.at(-1)?.content;
  return Array.isArray(content) && content.some((b) => (b as { type?: unknown } | null)?.type === 'tool_result');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'request-id': 'req_mock01' });
  res.end(text);
}

function error(res: http.ServerResponse, status: number, type: string, message: string): void {
  json(res, status, { type: 'error', error: { type, message } });
}
