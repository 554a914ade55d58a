/**
 * A local stand-in for Ollama's OpenAI-compatible API on 127.0.0.1:0: no credential,
 * `POST /v1/chat/completions` answering JSON (with `usage`) or SSE chunks as Ollama sends
 * them (`system_fingerprint: "fp_ollama"`, a tool call whole in one chunk, a usage chunk
 * only with `stream_options.include_usage`, `data: [DONE]`), `GET /api/version`, and
 * Ollama's 404 for an unknown model.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './anthropic-mock.js';

export const OLLAMA_USAGE = { prompt_tokens: 26, completion_tokens: 12 };

export class OllamaMock {
  readonly requests: RecordedRequest[] = [];
  readonly models = new Set(['llama3.2', 'qwen2.5-coder:7b']);
  text = 'Hello from a local llama.';
  private readonly server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(): Promise<OllamaMock> {
    const mock = new OllamaMock();
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  lastJson(): Record<string, unknown> {
    return JSON.parse(this.last!.body.toString('utf8')) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.alloc(0), receivedAt: performance.now(), closed: Promise.resolve() };
    this.requests.push(record);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    record.body = Buffer.concat(chunks);
    if (req.method === 'GET' && req.url === '/api/version') return json(res, 200, { version: '0.9.6' });
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: '404 page not found', type: 'api_error', param: null, code: null } });
    const body = JSON.parse(record.body.toString('utf8')) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean }; tools?: Array<{ function: { name: string } }> };
    if (!this.models.has(body.model)) return json(res, 404, { error: { message: `model "${body.model}" not found, try pulling it first`, type: 'api_error', param: null, code: null } });
    const tool = body.tools?.[0]?.function.name;
    const toolCalls = tool ? [{ id: 'call_q1w2e3r4', index: 0, type: 'function', function: { name: tool, arguments: '{"city":"Zürich"}' } }] : undefined;
    const usage = { ...OLLAMA_USAGE, total_tokens: OLLAMA_USAGE.prompt_tokens + OLLAMA_USAGE.completion_tokens };
    const base = { id: 'chatcmpl-512', created: 1750000300, model: body.model, system_fingerprint: 'fp_ollama' };
    if (!body.stream) {
      const message = tool ? { role: 'assistant', content: '', tool_calls: toolCalls } : { role: 'assistant', content: this.text };
      return json(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop' }], usage });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: unknown, finish: string | null): string => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (tool) res.write(chunk({ role: 'assistant', content: '', tool_calls: toolCalls }, null));
    else for (const w of this.text.split(/(?<= )/)) res.write(chunk({ role: 'assistant', content: w }, null));
    res.write(chunk({ role: 'assistant', content: '' }, tool ? 'tool_calls' : 'stop'));
    if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
