/**
 * The unified endpoint on Anthropic: an OpenAI chat request translated to Messages,
 * forwarded to `/v1/messages`, and the answer translated back — a JSON body whole, a
 * stream event by event as upstream chunks arrive (never buffered), errors as OpenAI
 * error objects with the status the `openai` SDKs map to the right exception class.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardUpstream, GatewayError, type ChatRequest, type ProviderResponse, type RequestContext, type TokenUsage, type UsageMeter } from '../../core/index.js';
import {
  anthropicErrorToOpenAI,
  anthropicToOpenAIResponse,
  AnthropicToOpenAIStream,
  openAIToAnthropicRequest,
  type AnthropicMessage,
  type OpenAIChatRequest,
} from '../translate/openai-anthropic/index.js';
import { readAll } from '../common/body.js';

export interface ChatSettings {
  pool: Dispatcher;
  /** `<basePath>/v1/messages`. */
  path: string;
  apiKey: string;
  anthropicVersion: string;
  /** `max_tokens` for requests that set none (Anthropic requires one); from `default_max_tokens`. */
  defaultMaxTokens: number;
  /** Opted-in gateway headers (lower-cased) copied from the client's request. */
  forwardHeaders: readonly string[];
}

/** Usage known in full, or read from a translator; core feeds it the translated bytes, which it ignores. */
function meterOf(source: { readonly usage: TokenUsage; readonly streamError?: string; readonly model?: string }): UsageMeter {
  return {
    write() {},
    end() {},
    get usage() {
      return source.usage;
    },
    get streamError() {
      return source.streamError;
    },
    get model() {
      return source.model;
    },
  };
}

function requestHeaders(incoming: IncomingHttpHeaders, s: ChatSettings, stream: boolean): Record<string, string> {
  // A translated call starts from clean headers: the client's are OpenAI's and mean nothing here.
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'anthropic-version': s.anthropicVersion,
    'x-api-key': s.apiKey,
  };
  for (const name of s.forwardHeaders) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

async function* translated(upstream: AsyncIterable<Uint8Array>, t: AnthropicToOpenAIStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of upstream) {
    const out = t.write(chunk);
    if (out.length > 0) yield out;
  }
  const tail = t.end();
  if (tail.length > 0) yield tail;
}

export async function anthropicChat(ctx: RequestContext, request: ChatRequest, s: ChatSettings): Promise<ProviderResponse> {
  const openai = request as OpenAIChatRequest;
  const body = openAIToAnthropicRequest(openai, { defaultMaxTokens: s.defaultMaxTokens });
  const stream = body.stream === true;
  const res = await forwardUpstream(s.pool, {
    method: 'POST',
    path: s.path,
    headers: requestHeaders(ctx.headers, s, stream),
    body: Buffer.from(JSON.stringify(body)),
    signal: ctx.signal,
  });
  const contentType = String(res.headers['content-type'] ?? '');
  const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);

  if (res.status >= 400) {
    const error = anthropicErrorToOpenAI(res.status, await readAll(res.body), res.headers);
    return { status: error.status, headers: { 'content-type': 'application/json', ...error.headers }, body: Buffer.from(JSON.stringify(error.body)) };
  }
  if (contentType.startsWith('text/event-stream')) {
    const t = new AnthropicToOpenAIStream({ id, created, includeUsage: openai.stream_options?.include_usage === true });
    const upstream = res.body as AsyncIterable<Uint8Array> & { destroy?: () => void };
    const out = Object.assign(translated(upstream, t), { destroy: () => upstream.destroy?.() });
    return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body: out, meter: meterOf(t) };
  }
  let message: AnthropicMessage;
  try {
    message = JSON.parse((await readAll(res.body)).toString('utf8')) as AnthropicMessage;
  } catch {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${res.status} with a body that is not a JSON message (${contentType || 'no content-type'})`);
  }
  if (message?.type !== 'message') throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answered with something other than a message');
  const { body: completion, usage } = anthropicToOpenAIResponse(message, { id, created });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(completion)), meter: meterOf({ usage, model: message.model }) };
}
