/**
 * A local stand-in for Mistral's Conversations API on 127.0.0.1:0, keeping conversations
 * as Mistral does: a start (`POST /v1/conversations`, `model` or `agent_id`) makes one
 * with a new id and runs on what it named; an append (`POST /v1/conversations/{id}`) runs
 * on the conversation's model or agent, whatever its body names; a restart
 * (`…/{id}/restart`) makes a new conversation on the same; `GET /v1/conversations/{id}`
 * answers the conversation object (`model`, or `agent_id` for an agent's). Unknown ids are
 * 404 (`{ object: 'error', message, type, code }`); `Authorization: Bearer` is checked.
 * Answers are `conversation.response` objects, or with `stream: true` the typed events
 * (`conversation.response.started` with the id, `message.output.delta`, `…done`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './anthropic-mock.js';

interface Conversation {
  model?: string;
  agent_id?: string;
}

/** The model an agent runs on, as Mistral names it in the answer. */
const AGENT_MODEL = 'mistral-large-2411';
const USAGE = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };

export class MistralConversationsMock {
  readonly requests: RecordedRequest[] = [];
  readonly conversations = new Map<string, Conversation>();
  /** When set, `GET /v1/conversations/{id}` answers this status (a 500, an outage). */
  getFails: number | undefined;
  /** How many `GET`s answer `getFails` (then `getFails` is cleared); all of them when unset. */
  getFailsTimes: number | undefined;
  /** How many `GET`s get their connection closed without an answer (a reset). */
  getDrops = 0;
  /** How many `GET`s answer a 200 head whose body is cut short (the connection closed mid-body). */
  getCuts = 0;
  /** The `retry-after` a failing `GET` sends with its status. */
  getRetryAfter: string | string[] | undefined;
  /** When true, `GET /v1/conversations/{id}` never answers (a timeout upstream). */
  getStalls = false;
  private next = 0;
  private readonly server: http.Server;

  private constructor(private readonly apiKey: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(apiKey: string): Promise<MistralConversationsMock> {
    const mock = new MistralConversationsMock(apiKey);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests of `method` whose path begins with `prefix`. */
  seen(method: string, prefix = '/'): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.startsWith(prefix));
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
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return error(res, 401, 'Unauthorized', 'invalid_request_error', '1000');
    const match = /^\/v1\/conversations(?:\/([^/]+)(\/restart)?)?$/.exec(record.url);
    if (!match) return error(res, 404, 'Not Found', 'invalid_request_error', '1000');
    const [, id, restart] = match;
    const body = record.body.length > 0 ? (JSON.parse(record.body.toString('utf8')) as Record<string, unknown>) : {};
    if (req.method === 'POST' && id === undefined) {
      const conv: Conversation = typeof body.agent_id === 'string' ? { agent_id: body.agent_id } : typeof body.model === 'string' ? { model: body.model } : {};
      if (!conv.model && !conv.agent_id) return error(res, 422, 'Either model or agent_id must be provided', 'invalid_request_error', '3000');
      return this.answer(res, this.create(conv), conv, body.stream === true);
    }
    const conv = id === undefined ? undefined : this.conversations.get(id);
    if (!conv || id === undefined) return error(res, 404, `Conversation ${id} not found`, 'invalid_request_error', '3001');
    if (req.method === 'GET' && !restart) {
      if (this.getStalls) return;
      if (this.getDrops > 0) {
        this.getDrops--;
        req.socket.destroy();
        return;
      }
      if (this.getCuts > 0) {
        this.getCuts--;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.write('{"object":"conversation","id":"');
        // A moment later, so the head and the first bytes reach the gateway before the cut.
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      if (this.getFails !== undefined) {
        const status = this.getFails;
        if (this.getFailsTimes !== undefined && --this.getFailsTimes <= 0) this.getFails = this.getFailsTimes = undefined;
        if (this.getRetryAfter !== undefined) res.setHeader('retry-after', this.getRetryAfter);
        return error(res, status, 'Internal error', 'internal_error', '5000');
      }
      const object = conv.agent_id ? { agent_id: conv.agent_id, agent_version: 0 } : { model: conv.model, instructions: null, tools: [], completion_args: {} };
      return json(res, 200, { object: 'conversation', id, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:01Z', name: null, description: null, metadata: {}, ...object });
    }
    if (req.method !== 'POST') return error(res, 405, 'Method Not Allowed', 'invalid_request_error', '1000');
    return this.answer(res, restart ? this.create(conv) : id, conv, body.stream === true);
  }

  private create(conv: Conversation): string {
    const id = `conv_${String(++this.next).padStart(4, '0')}`;
    this.conversations.set(id, conv);
    return id;
  }

  private answer(res: http.ServerResponse, id: string, conv: Conversation, stream: boolean): void {
    const model = conv.model ?? AGENT_MODEL;
    if (!stream) {
      const output = { object: 'entry', type: 'message.output', created_at: '2026-12-01T00:00:00Z', completed_at: '2026-12-01T00:00:01Z', id: 'msg_1', agent_id: conv.agent_id ?? null, model, role: 'assistant', content: 'Hello.' };
      return json(res, 200, { object: 'conversation.response', conversation_id: id, outputs: [output], usage: USAGE });
    }
    const event = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(event('conversation.response.started', { created_at: '2026-12-01T00:00:00Z', conversation_id: id }));
    res.write(event('message.output.delta', { created_at: '2026-12-01T00:00:00Z', output_index: 0, id: 'msg_1', content_index: 0, model, agent_id: conv.agent_id ?? null, role: 'assistant', content: 'Hello.' }));
    res.end(event('conversation.response.done', { created_at: '2026-12-01T00:00:01Z', usage: USAGE }));
  }
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: http.ServerResponse, status: number, message: string, type: string, code: string): void {
  json(res, status, { object: 'error', message, type, param: null, code });
}
