/**
 * A local stand-in for the Gemini API (generativelanguage v1beta) on 127.0.0.1:0, faithful
 * where the gateway can tell: the key is read from `x-goog-api-key` or `?key=` (a wrong
 * one is Google's 400 INVALID_ARGUMENT / API_KEY_INVALID, none a 403 PERMISSION_DENIED);
 * `models/{m}:generateContent` answers a GenerateContentResponse; `:streamGenerateContent`
 * with `alt=sse` sends `data: {GenerateContentResponse}\r\n\r\n` chunks, each repeating
 * `usageMetadata` as running totals, the last with `finishReason`; without `alt` the same
 * chunks as one JSON array; `:countTokens`, `:batchGenerateContent` (its Operation) and the
 * model list answer as Google does.
 * Declared functions are called (a `functionCall` part with a `thoughtSignature`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedRequest } from './anthropic-mock.js';

export interface GeminiMockUsage {
  promptTokenCount: number;
  cachedContentTokenCount: number;
  candidatesTokenCount: number;
  thoughtsTokenCount: number;
}

/** What the gateway should count: input = prompt − cached, output = candidates + thoughts. */
export const GEMINI_USAGE: GeminiMockUsage = { promptTokenCount: 1500, cachedContentTokenCount: 1000, candidatesTokenCount: 40, thoughtsTokenCount: 25 };

export const MODEL_VERSION = 'gemini-2.5-flash';
export const THOUGHT_SIGNATURE = 'CiQB0e2Kb3mockSignatureForTheFunctionCall==';

type Json = Record<string, unknown>;

export class GeminiMock {
  readonly requests: RecordedRequest[] = [];
  eventDelayMs = 0;
  usage: GeminiMockUsage = GEMINI_USAGE;
  text = 'Hello from the Gemini mock, chunk by chunk.';
  /** When set, the next model call gets this error answer instead (Google's shape). */
  nextError: { status: number; body: unknown; headers?: Record<string, string> } | undefined;
  /** Streams: after this many chunks, `reset` destroys the socket, `end` ends cleanly without a finishReason. */
  cutStream: { after: number; how: 'reset' | 'end' } | undefined;
  private readonly server: http.Server;

  private constructor(private readonly apiKey: string) {
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(apiKey: string): Promise<GeminiMock> {
    const mock = new GeminiMock(apiKey);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  lastJson(): Json {
    return JSON.parse(this.last!.body.toString('utf8')) as Json;
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
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    record.body = Buffer.concat(chunks);
    const url = new URL(record.url, 'http://mock');
    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (!key) return error(res, 403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');
    if (key !== this.apiKey) return error(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }]);
    if (req.method === 'POST' && url.pathname === '/upload/v1beta/files') return this.upload(req, url, record.body, res);
    const m = /^\/(v1|v1beta)\/models(?:\/([^/:]+)(?::(\w+))?)?$/.exec(url.pathname);
    if (!m) return error(res, 404, 'NOT_FOUND', `Requested entity was not found: ${url.pathname}`);
    const [, , model, method] = m;
    if (req.method === 'GET' && !model) return json(res, 200, { models: [modelInfo('gemini-2.5-flash'), modelInfo('gemini-2.5-pro')] });
    if (req.method === 'GET' && !method) return json(res, 200, modelInfo(decodeURIComponent(model)));
    if (req.method !== 'POST') return error(res, 404, 'NOT_FOUND', 'Method not found.');
    if (this.nextError) {
      const e = this.nextError;
      this.nextError = undefined;
      res.writeHead(e.status, { 'content-type': 'application/json; charset=UTF-8', ...e.headers });
      return void res.end(JSON.stringify(e.body));
    }
    let body: Json;
    try {
      body = JSON.parse(record.body.toString('utf8')) as Json;
    } catch {
      return error(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    if (method === 'countTokens') return json(res, 200, { totalTokens: 31, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 31 }] });
    if (method === 'batchGenerateContent') {
      // The long-running Operation a batch create answers; its requests run later.
      const batch = (body.batch ?? {}) as Json;
      const metadata = { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch', name: 'batches/mock01', displayName: batch.displayName ?? batch.display_name, model: `models/${decodeURIComponent(model)}`, state: 'BATCH_STATE_PENDING', createTime: '2027-01-01T00:00:00Z' };
      return json(res, 200, { name: 'batches/mock01', metadata });
    }
    if (!Array.isArray(body.contents)) return error(res, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
    const chunksOut = this.answer(body);
    if (method === 'generateContent') return json(res, 200, merge(chunksOut));
    if (method !== 'streamGenerateContent') return error(res, 404, 'NOT_FOUND', `Method ${method} not found.`);
    if (url.searchParams.get('alt') !== 'sse') return json(res, 200, chunksOut);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-content-type-options': 'nosniff' });
    for (let i = 0; i < chunksOut.length; i++) {
      if (res.destroyed) return;
      if (this.cutStream && i === this.cutStream.after) {
        const how = this.cutStream.how;
        this.cutStream = undefined;
        if (how === 'end') return void res.end();
        // Let the gateway read what was sent: a reset discards unread data on the receiving side.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        await sleep(50);
        res.socket?.destroy();
        return;
      }
      if (i > 0 && this.eventDelayMs > 0) await sleep(this.eventDelayMs);
      res.write(`data: ${JSON.stringify(chunksOut[i])}\r\n\r\n`);
    }
    res.end();
  }

  /**
   * The Files API's resumable upload, as Google runs it: `start` answers with an empty body
   * and an absolute `x-goog-upload-url` on the API's own origin (here the mock's) carrying an
   * `upload_id`; the bytes are then POSTed there with `upload, finalize`, answered with the
   * File and `x-goog-upload-status: final`.
   */
  private upload(req: http.IncomingMessage, url: URL, body: Buffer, res: http.ServerResponse): void {
    const command = String(req.headers['x-goog-upload-command'] ?? '');
    if (command === 'start') {
      res.writeHead(200, { 'x-goog-upload-url': `${this.url}/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable`, 'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '8388608', 'content-length': '0' });
      return void res.end();
    }
    if (url.searchParams.get('upload_id') !== 'mockupload01' || !command.includes('upload')) return error(res, 400, 'INVALID_ARGUMENT', 'unknown upload session');
    const file = { name: 'files/mock01', mimeType: 'text/plain', sizeBytes: String(body.length), uri: `${this.url}/v1beta/files/mock01`, state: 'ACTIVE', source: 'UPLOADED' };
    const text = JSON.stringify({ file });
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), 'x-goog-upload-status': command.includes('finalize') ? 'final' : 'active' });
    res.end(text);
  }

  /** The answer as stream chunks: text word by word (or one function call), running usage totals. */
  private answer(body: Json): Json[] {
    const tools = body.tools as Array<{ functionDeclarations?: Array<{ name: string }> }> | undefined;
    const fn = tools?.[0]?.functionDeclarations?.[0]?.name;
    const u = this.usage;
    const parts: Json[][] = fn
      ? [[{ functionCall: { name: fn, args: { location: 'Paris, France', unit: 'celsius' } }, thoughtSignature: THOUGHT_SIGNATURE }]]
      : this.text.split(/(?<= )/).map((w) => [{ text: w }]);
    return parts.map((p, i) => {
      const last = i === parts.length - 1;
      // Running totals: candidates grow, the prompt and the thinking are known from the first chunk.
      const candidates = last ? u.candidatesTokenCount : Math.max(1, Math.floor((u.candidatesTokenCount * (i + 1)) / parts.length));
      const usageMetadata = {
        promptTokenCount: u.promptTokenCount,
        candidatesTokenCount: candidates,
        totalTokenCount: u.promptTokenCount + candidates + u.thoughtsTokenCount,
        ...(u.cachedContentTokenCount ? { cachedContentTokenCount: u.cachedContentTokenCount } : {}),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.promptTokenCount }],
        ...(u.thoughtsTokenCount ? { thoughtsTokenCount: u.thoughtsTokenCount } : {}),
      };
      const candidate: Json = { content: { parts: p, role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) };
      return { candidates: [candidate], usageMetadata, modelVersion: MODEL_VERSION, responseId: 'mockResp01' };
    });
  }
}

/** The non-streamed answer: the chunks' parts in one candidate, the last chunk's usage. */
function merge(chunks: Json[]): Json {
  const last = chunks[chunks.length - 1] as { candidates: Array<Json & { content: { parts: Json[] } }> };
  const parts: Json[] = [];
  for (const c of chunks as Array<typeof last>) parts.push(...c.candidates[0].content.parts);
  const text = parts.every((p) => typeof p.text === 'string') ? [{ text: parts.map((p) => p.text).join('') }] : parts;
  return { ...last, candidates: [{ ...last.candidates[0], content: { parts: text, role: 'model' } }] };
}

function modelInfo(id: string): Json {
  return { name: `models/${id}`, version: '001', displayName: id, inputTokenLimit: 1048576, outputTokenLimit: 65536, supportedGenerationMethods: ['generateContent', 'countTokens'] };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: http.ServerResponse, code: number, status: string, message: string, details?: Json[]): void {
  json(res, code, { error: { code, message, status, ...(details ? { details } : {}) } });
}
