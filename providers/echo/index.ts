/**
 * `echo`: a diagnostic provider that answers Anthropic Messages requests by echoing the
 * last user message, with realistic usage numbers, as JSON or as an SSE stream. It needs
 * no key and no network, so a fresh checkout can push a request through the whole chain
 * and a platform team can smoke-test a config change. It keeps the Messages API's rules
 * that filters count on: `max_tokens` is required, and the echo stops at it
 * (`stop_reason: "max_tokens"`), so the usage it reports never exceeds what was reserved.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError, type ModelInfo, type Provider, type ProviderPlugin, type ProviderResponse, type RequestContext } from '../../core/index.js';
import { anthropicDialect } from '../anthropic/dialect.js';
import { anthropicMeter } from '../anthropic/usage.js';

export interface EchoConfig {
  /** Models listed in `/v1/providers`; any model id is answered. */
  models: string[];
  /** Delay between stream events, to watch events arrive one by one. */
  stream_delay_ms: number;
  /** Words per `content_block_delta` event. */
  words_per_delta: number;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    models: { type: 'array', items: { type: 'string' }, default: ['echo-1'] },
    stream_delay_ms: { type: 'integer', minimum: 0, maximum: 10000, default: 0 },
    words_per_delta: { type: 'integer', minimum: 1, default: 3 },
  },
};

interface MessagesBody {
  model?: unknown;
  stream?: unknown;
  system?: unknown;
  messages?: unknown;
  max_tokens?: unknown;
}

/** The usual estimate for English text. */
const CHARS_PER_TOKEN = 4;

/** Rough token count ({@link CHARS_PER_TOKEN} characters a token). */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/**
 * `text` cut to the most {@link estimateTokens} counts as `maxTokens` (a surrogate pair is
 * never split), or undefined when it fits whole.
 */
function cutToTokens(text: string, maxTokens: number): string | undefined {
  let end = maxTokens * CHARS_PER_TOKEN;
  if (text.length <= end) return undefined;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block) => (block && typeof block === 'object' && (block as { type?: unknown }).type === 'text' ? String((block as { text?: unknown }).text ?? '') : ''))
      .join('');
  }
  return '';
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m && m.role === 'user') return textOf(m.content);
  }
  return '';
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function messageId(ctx: RequestContext): string {
  return `msg_echo_${ctx.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`;
}

class EchoProvider implements Provider {
  readonly dialect = anthropicDialect;
  readonly configured = true;
  readonly diagnostic = true;
  readonly features = ['messages', 'streaming', 'diagnostic'];
  private readonly modelList: ModelInfo[];

  constructor(private readonly config: EchoConfig) {
    this.modelList = config.models.map((id) => ({ id }));
  }

  models(): readonly ModelInfo[] {
    return this.modelList;
  }

  async health() {
    return { status: 'ok' as const, detail: 'diagnostic provider: echoes the last user message' };
  }

  inspect(ctx: RequestContext): void {
    if (!isMessages(ctx)) return;
    const body = ctx.json() as MessagesBody;
    ctx.kind = 'generation';
    ctx.model = typeof body?.model === 'string' ? body.model : undefined;
    ctx.stream = body?.stream === true;
    ctx.maxOutputTokens = typeof body?.max_tokens === 'number' ? body.max_tokens : undefined;
  }

  async passthrough(ctx: RequestContext): Promise<ProviderResponse> {
    if (ctx.method === 'GET' && (ctx.subpath === '/v1/models' || ctx.subpath === '/models')) {
      const data = this.modelList.map((m) => ({ type: 'model', id: m.id, display_name: `Echo (${m.id})`, created_at: '2026-01-01T00:00:00Z' }));
      return json(200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    if (!isMessages(ctx)) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `The echo provider answers POST /v1/messages, not ${ctx.method} ${ctx.subpath}`);
    const body = ctx.json() as MessagesBody;
    if (!body || typeof body !== 'object' || !Array.isArray(body.messages) || body.messages.length === 0) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID', 'messages: a non-empty array is required', { param: 'messages' });
    }
    const maxTokens = body.max_tokens;
    // As the Messages API: no default cap, and a cap must allow at least one token.
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID', 'max_tokens: a whole number of tokens, at least 1, is required', { param: 'max_tokens' });
    }
    const model = typeof body.model === 'string' ? body.model : this.modelList[0]?.id ?? 'echo-1';
    const whole = lastUserText(body.messages);
    const cut = cutToTokens(whole, maxTokens);
    const text = cut ?? whole;
    const stopReason = cut === undefined ? 'end_turn' : 'max_tokens';
    const inputTokens = estimateTokens(textOf(body.system) + body.messages.map((m) => textOf((m as { content?: unknown })?.content)).join(''));
    const outputTokens = estimateTokens(text);
    const id = messageId(ctx);
    if (!ctx.stream) {
      return json(200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text }],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      });
    }
    const events = this.streamEvents(id, model, text, stopReason, inputTokens, outputTokens);
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      body: this.paced(events, ctx.signal),
      meter: anthropicMeter('text/event-stream'),
    };
  }

  private streamEvents(id: string, model: string, text: string, stopReason: string, inputTokens: number, outputTokens: number): string[] {
    const events = [
      sse('message_start', {
        type: 'message_start',
        message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      }),
      sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      sse('ping', { type: 'ping' }),
    ];
    const words = text.split(/(?<=\s)/);
    const per = this.config.words_per_delta;
    for (let i = 0; i < words.length; i += per) {
      events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: words.slice(i, i + per).join('') } }));
    }
    events.push(
      sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
      sse('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }),
      sse('message_stop', { type: 'message_stop' }),
    );
    return events;
  }

  private async *paced(events: string[], signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const delay = this.config.stream_delay_ms;
    for (let i = 0; i < events.length; i++) {
      if (signal.aborted) return;
      if (delay > 0 && i > 0) await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      yield Buffer.from(events[i]);
    }
  }
}

function isMessages(ctx: RequestContext): boolean {
  return ctx.method === 'POST' && (ctx.subpath === '/v1/messages' || ctx.subpath === '/messages');
}

function json(status: number, body: unknown): ProviderResponse {
  const bytes = Buffer.from(JSON.stringify(body));
  return { status, headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) }, body: bytes, meter: anthropicMeter('application/json') };
}

const echo: ProviderPlugin<EchoConfig> = {
  name: 'echo',
  apiVersion: 1,
  defaultPrefix: '/v1/echo',
  configSchema,
  create: (config) => new EchoProvider(config),
};
export default echo;
