/**
 * A local stand-in for the OpenAI Chat Completions API on 127.0.0.1:0, faithful where the
 * gateway can tell: `Authorization: Bearer` checked (401 `invalid_api_key` otherwise),
 * JSON completions with `usage` incl. `prompt_tokens_details.cached_tokens`, and SSE
 * `chat.completion.chunk` streams as OpenAI sends them: a role chunk, one content delta
 * per word (or tool-call deltas with a stable index), a finish chunk, and with
 * `stream_options.include_usage` `usage: null` on every chunk plus the final usage-only
 * chunk (`choices: []`), then `data: [DONE]`. `compat: 'mistral'` mimics a service that
 * puts usage on its finish chunk unasked and refuses `stream_options`.
 * Also the Responses API (`POST /v1/responses`): a `response` object with `usage`
 * (`input_tokens` with `input_tokens_details.cached_tokens` inside, `output_tokens` with
 * `output_tokens_details.reasoning_tokens` inside), or with `stream: true` the typed event
 * stream OpenAI sends — `event: response.created`, `response.in_progress`, the output item,
 * content part and one `response.output_text.delta` per word, their `.done` events, and
 * `response.completed` carrying the usage; no `[DONE]`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedRequest } from './anthropic-mock.js';
import type { UploadSink } from './upload-sink.js';

export interface OpenAIMockUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

export interface OpenAIMockOptions {
  apiKey: string;
  /** Pause before each SSE event after the first (ms). */
  eventDelayMs?: number;
  compat?: 'openai' | 'mistral';
}

export const OPENAI_USAGE: OpenAIMockUsage = { prompt_tokens: 1500, completion_tokens: 42, cached_tokens: 1024 };

export class OpenAIMock {
  readonly requests: RecordedRequest[] = [];
  eventDelayMs: number;
  usage: OpenAIMockUsage = OPENAI_USAGE;
  text = 'Hello from the OpenAI mock, word by word.';
  /** When set, the next chat or Responses request gets this error answer instead. */
  nextError: { status: number; headers?: Record<string, string>; body: unknown } | undefined;
  /** Reasoning tokens reported (inside the output tokens) by the Responses API. */
  reasoningTokens = 0;
  /** When set, the next Responses stream ends cleanly after this many events, before `response.completed`. */
  cutResponseStreamAfter: number | undefined;
  /** When set, uploads (`POST /v1/files`, upload parts) are counted here, not kept (multipart unread). */
  uploadSink: UploadSink | undefined;
  private readonly server: http.Server;

  private constructor(private readonly opts: OpenAIMockOptions) {
    this.eventDelayMs = opts.eventDelayMs ?? 0;
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(opts: OpenAIMockOptions): Promise<OpenAIMock> {
    const mock = new OpenAIMock(opts);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  /** The last request's body, parsed. */
  lastJson(): Record<string, unknown> {
    return JSON.parse(this.last!.body.toString('utf8')) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let markClosed!: () => void;
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.alloc(0), receivedAt: performance.now(), closed: new Promise<void>((r) => (markClosed = r)) };
    this.requests.push(record);
    res.on('close', () => {
      record.closedAt = performance.now();
      markClosed();
    });
    const sunk = this.uploadSink && req.method === 'POST' ? /^\/v1\/(?:files|uploads\/([^/]+)\/parts)$/.exec(record.url.split('?')[0]) : null;
    if (sunk) {
      // Refused at once, as the API does, without waiting for the file.
      if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) return error(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      const n = this.uploadSink!.uploads.length + 1;
      return this.uploadSink!.receive(req, res, (bytes) =>
        sunk[1] ? { id: `part_sunk${n}`, object: 'upload.part', created_at: 1767225600, upload_id: sunk[1] } : { id: `file-sunk${n}`, object: 'file', bytes, created_at: 1767225600, filename: 'upload', purpose: 'assistants', status: 'processed', expires_at: null, status_details: null },
      );
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    record.body = Buffer.concat(chunks);
    const path = record.url.split('?')[0];
    if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      return error(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' }] });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return this.chat(record.body, res);
    if (req.method === 'POST' && path === '/v1/files') return this.upload(req, record.body, res);
    if (req.method === 'POST' && path === '/v1/responses') return this.responses(record.body, res);
    if (req.method === 'POST' && path === '/v1/batch/jobs') {
      // Mistral's batch job: requests inline or in uploaded files, a job-level model.
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(record.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(res, 422, { object: 'error', message: 'Invalid JSON body', type: 'invalid_request_error' });
      }
      const { input_files, endpoint, model, agent_id, requests } = fields;
      const total = Array.isArray(requests) ? requests.length : 0;
      return json(res, 200, { id: 'job-mock01', object: 'batch', input_files: input_files ?? [], endpoint, model: model ?? null, agent_id: agent_id ?? null, errors: [], status: 'QUEUED', created_at: 1767225600, total_requests: total, completed_requests: 0, succeeded_requests: 0, failed_requests: 0 });
    }
    if (req.method === 'POST' && path === '/v1/batches') {
      // The real answer's shape; the requests stay in the uploaded file.
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(record.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return error(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      }
      const { input_file_id, endpoint, completion_window } = fields;
      return json(res, 200, { id: 'batch_mock01', object: 'batch', endpoint, input_file_id, completion_window, status: 'validating', created_at: 1767225600, request_counts: { total: 0, completed: 0, failed: 0 } });
    }
    return error(res, 404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null);
  }

  /** Files uploaded (`POST /v1/files`), by id. */
  readonly storedFiles = new Map<string, { filename: string; purpose: string; content: Buffer }>();

  /** `POST /v1/files`: multipart with `file` and `purpose`, answered with the File object. */
  private async upload(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): Promise<void> {
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
    } catch {
      return error(res, 400, 'The request body must be multipart/form-data.', 'invalid_request_error', null);
    }
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (!(file instanceof Blob)) return error(res, 400, "Missing required parameter: 'file'.", 'invalid_request_error', 'missing_required_parameter');
    if (typeof purpose !== 'string') return error(res, 400, "Missing required parameter: 'purpose'.", 'invalid_request_error', 'missing_required_parameter');
    const id = `file-mock${String(this.storedFiles.size + 1).padStart(2, '0')}`;
    const entry = { filename: (file as File).name ?? 'upload', purpose, content: Buffer.from(await file.arrayBuffer()) };
    this.storedFiles.set(id, entry);
    return json(res, 200, { id, object: 'file', bytes: entry.content.length, created_at: 1767225600, filename: entry.filename, purpose, status: 'processed', expires_at: null, status_details: null });
  }

  /** Answers with `nextError` (and clears it) when one is set. */
  private sentError(res: http.ServerResponse): boolean {
    const e = this.nextError;
    if (!e) return false;
    this.nextError = undefined;
    const text = JSON.stringify(e.body);
    res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
    res.end(text);
    return true;
  }

  private async responses(raw: Buffer, res: http.ServerResponse): Promise<void> {
    if (this.sentError(res)) return;
    let body: { model?: string; stream?: boolean; max_output_tokens?: number | null; instructions?: string | null };
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return error(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    }
    if (typeof body.model !== 'string') return json(res, 400, { error: { message: "Missing required parameter: 'model'.", type: 'invalid_request_error', param: 'model', code: 'missing_required_parameter' } });
    const u = this.usage;
    const usage = {
      input_tokens: u.prompt_tokens,
      input_tokens_details: { cached_tokens: u.cached_tokens },
      output_tokens: u.completion_tokens,
      output_tokens_details: { reasoning_tokens: this.reasoningTokens },
      total_tokens: u.prompt_tokens + u.completion_tokens,
    };
    // OpenAI answers with the dated snapshot the alias resolved to.
    const model = body.model === 'gpt-4o' ? 'gpt-4o-2024-08-06' : body.model;
    const response = (status: string, output: unknown[], withUsage: boolean): Record<string, unknown> => ({
      id: 'resp_mock01',
      object: 'response',
      created_at: 1750000000,
      status,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      max_tool_calls: null,
      model,
      output,
      parallel_tool_calls: true,
      previous_response_id: null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: 'default',
      store: true,
      temperature: 1.0,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tool_choice: 'auto',
      tools: [],
      top_logprobs: 0,
      top_p: 1.0,
      truncation: 'disabled',
      usage: withUsage ? usage : null,
      user: null,
      metadata: {},
    });
    const part = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });
    const message = (status: string, content: unknown[]) => ({ id: 'msg_mock01', type: 'message', status, content, role: 'assistant' });
    const done = message('completed', [part(this.text)]);
    if (!body.stream) return json(res, 200, response('completed', [done], true));

    const at = { item_id: 'msg_mock01', output_index: 0, content_index: 0 };
    const events: Array<Record<string, unknown>> = [
      { type: 'response.created', response: response('in_progress', [], false) },
      { type: 'response.in_progress', response: response('in_progress', [], false) },
      { type: 'response.output_item.added', output_index: 0, item: message('in_progress', []) },
      { type: 'response.content_part.added', ...at, part: part('') },
      ...this.text.split(/(?<= )/).map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
      { type: 'response.output_text.done', ...at, text: this.text, logprobs: [] },
      { type: 'response.content_part.done', ...at, part: part(this.text) },
      { type: 'response.output_item.done', output_index: 0, item: done },
      { type: 'response.completed', response: response('completed', [done], true) },
    ];
    const cut = this.cutResponseStreamAfter;
    this.cutResponseStreamAfter = undefined;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_mock01' });
    const n = cut ?? events.length;
    for (let i = 0; i < n; i++) {
      if (res.destroyed) return;
      if (i > 0 && this.eventDelayMs > 0) await sleep(this.eventDelayMs);
      const { type, ...rest } = events[i];
      res.write(`event: ${type as string}\ndata: ${JSON.stringify({ type, sequence_number: i, ...rest })}\n\n`);
    }
    res.end();
  }

  private async chat(raw: Buffer, res: http.ServerResponse): Promise<void> {
    if (this.sentError(res)) return;
    let body: { model?: string; n?: number; stream?: boolean; stream_options?: { include_usage?: boolean }; tools?: Array<{ function: { name: string } }> };
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return error(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    }
    const mistral = this.opts.compat === 'mistral';
    if (mistral && body.stream_options !== undefined) return json(res, 422, { object: 'error', message: 'stream_options: Extra inputs are not permitted', type: 'invalid_request_error', param: null, code: null });
    const model = body.model ?? 'gpt-4o';
    const tool = body.tools?.[0]?.function.name;
    const args = JSON.stringify({ location: 'Paris, France', unit: 'celsius' });
    const u = this.usage;
    const usage = {
      prompt_tokens: u.prompt_tokens,
      completion_tokens: u.completion_tokens,
      total_tokens: u.prompt_tokens + u.completion_tokens,
      prompt_tokens_details: { cached_tokens: u.cached_tokens, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const base = { id: 'chatcmpl-mock01', created: 1750000000, model, system_fingerprint: 'fp_mock' };
    // With `n` choices OpenAI streams each choice's chunks by `index`, and reports one usage for all.
    const n = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
    if (!body.stream) {
      const message = tool
        ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: 'call_mock01', type: 'function', function: { name: tool, arguments: args } }] }
        : { role: 'assistant', content: this.text, refusal: null, annotations: [] };
      const choices = Array.from({ length: n }, (_, index) => ({ index, message, logprobs: null, finish_reason: tool ? 'tool_calls' : 'stop' }));
      return json(res, 200, { ...base, object: 'chat.completion', choices, usage, service_tier: 'default' });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const events: unknown[] = [];
    for (let index = 0; index < n; index++) {
      const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
        ...base,
        object: 'chat.completion.chunk',
        service_tier: 'default',
        choices: [{ index, delta, logprobs: null, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      });
      events.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
      if (tool) {
        events.push(chunk({ tool_calls: [{ index: 0, id: 'call_mock01', type: 'function', function: { name: tool, arguments: '' } }] }, null));
        for (let i = 0; i < args.length; i += 7) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 7) } }] }, null));
      } else {
        for (const w of this.text.split(/(?<= )/)) events.push(chunk({ content: w }, null));
      }
      events.push(chunk({}, tool ? 'tool_calls' : 'stop', mistral ? { usage } : {}));
    }
    if (includeUsage) events.push({ ...base, object: 'chat.completion.chunk', service_tier: 'default', choices: [], usage });

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_mock01' });
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (i > 0 && this.eventDelayMs > 0) await sleep(this.eventDelayMs);
      res.write(`data: ${JSON.stringify(events[i])}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': 'req_mock01' });
  res.end(text);
}

function error(res: http.ServerResponse, status: number, message: string, type: string, code: string | null): void {
  json(res, status, { error: { message, type, param: null, code } });
}
