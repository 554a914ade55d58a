/**
 * The unified endpoint on Gemini: an OpenAI chat request translated to `generateContent`
 * (or `streamGenerateContent?alt=sse`), and the answer translated back — a JSON body
 * whole, a stream chunk by chunk as upstream bytes arrive (never buffered), errors as
 * OpenAI error objects with the status the `openai` SDKs map to the right class.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardUpstream, GatewayError, type ChatRequest, type ProviderResponse, type RequestContext, type TokenUsage, type UsageMeter } from '../../core/index.js';
import { readAll } from '../common/body.js';
import type { OpenAIChatRequest } from '../translate/openai-anthropic/openai-types.js';
import { geminiErrorToOpenAI, geminiToOpenAIResponse, GeminiToOpenAIStream, openAIToGeminiRequest, type GeminiResponse } from '../translate/openai-gemini/index.js';

export interface ChatSettings {
  pool: Dispatcher;
  /** `<basePath>/<api_version>`. */
  root: string;
  apiKey: string;
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
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', 'x-goog-api-key': s.apiKey };
  for (const name of s.forwardHeaders) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

async function* translated(upstream: AsyncIterable<Uint8Array>, t: GeminiToOpenAIStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of upstream) {
    const out = t.write(chunk);
    if (out.length > 0) yield out;
  }
  const tail = t.end();
  if (tail.length > 0) yield tail;
}

/** Serve one unified chat request on Gemini. */
export async function geminiChat(ctx: RequestContext, request: ChatRequest, s: ChatSettings): Promise<ProviderResponse> {
  const openai = request as OpenAIChatRequest;
  const body = openAIToGeminiRequest(openai);
  const stream = openai.stream === true;
  const model = openai.model.replace(/^models\//, '');
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  const res = await forwardUpstream(s.pool, {
    method: 'POST',
    path: `${s.root}/models/${encodeURIComponent(model)}:${method}`,
    headers: requestHeaders(ctx.headers, s, stream),
    body: Buffer.from(JSON.stringify(body)),
    signal: ctx.signal,
  });
  const contentType = String(res.headers['content-type'] ?? '');
  const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);

  if (res.status >= 400) {
    const error = geminiErrorToOpenAI(res.status, await readAll(res.body), res.headers);
    return { status: error.status, headers: { 'content-type': 'application/json', ...error.headers }, body: Buffer.from(JSON.stringify(error.body)) };
  }
  if (stream && contentType.startsWith('text/event-stream')) {
    const t = new GeminiToOpenAIStream({ id, created, model, includeUsage: openai.stream_options?.include_usage === true });
    const upstream = res.body as AsyncIterable<Uint8Array> & { destroy?: () => void };
    const out = Object.assign(translated(upstream, t), { destroy: () => upstream.destroy?.() });
    return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body: out, meter: meterOf(t) };
  }
  let answer: GeminiResponse;
  try {
    answer = JSON.parse((await readAll(res.body)).toString('utf8')) as GeminiResponse;
  } catch {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${res.status} with a body that is not a JSON GenerateContentResponse (${contentType || 'no content-type'})`);
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answered with something other than a GenerateContentResponse');
  const { body: completion, usage } = geminiToOpenAIResponse(answer, { id, created, model });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(completion)), meter: meterOf({ usage, model: answer.modelVersion }) };
}
