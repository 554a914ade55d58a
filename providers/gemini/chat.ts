/**
 * The unified endpoint on Gemini: an OpenAI chat request translated to `generateContent`
 * (or `streamGenerateContent?alt=sse`), and the answer translated back — a JSON body
 * whole, a stream chunk by chunk as upstream bytes arrive (never buffered), errors as
 * OpenAI error objects with the status the `openai` SDKs map to the right class.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardUpstream, GatewayError, TEXT_STRINGS, type BodyStrings, type ChatRequest, type ProviderResponse, type RequestContext } from '../../core/index.js';
import { readAll } from '../common/body.js';
import { chatHeaders, completionIds, errorAnswer, meterOf, SSE_HEADERS, translatedBody } from '../common/translated-chat.js';
import type { OpenAIChatRequest } from '../translate/openai-anthropic/openai-types.js';
import { geminiErrorToOpenAI, geminiToOpenAIResponse, GeminiToOpenAIStream, openAIToGeminiRequest, type GeminiResponse } from '../translate/openai-gemini/index.js';
import { translatedAnswer } from '../translate/translated-answer.js';

export interface ChatSettings {
  pool: Dispatcher;
  /** `<basePath>/<api_version>`. */
  root: string;
  apiKey: string;
  /** Opted-in gateway headers (lower-cased) copied from the client's request. */
  forwardHeaders: readonly string[];
}

function requestHeaders(incoming: IncomingHttpHeaders, s: ChatSettings, stream: boolean): Record<string, string> {
  return chatHeaders(incoming, s.forwardHeaders, { accept: stream ? 'text/event-stream' : 'application/json', 'x-goog-api-key': s.apiKey });
}

/** Serve one unified chat request on Gemini. */
export async function geminiChat(ctx: RequestContext, request: ChatRequest, s: ChatSettings, strings: BodyStrings = TEXT_STRINGS): Promise<ProviderResponse> {
  const openai = request as OpenAIChatRequest;
  const body = openAIToGeminiRequest(openai, strings);
  const stream = openai.stream === true;
  // As text: it goes into the URL and the answer, not into the body built from the request.
  const model = strings.text(openai.model).replace(/^models\//, '');
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  const res = await forwardUpstream(s.pool, {
    method: 'POST',
    path: `${s.root}/models/${encodeURIComponent(model)}:${method}`,
    headers: requestHeaders(ctx.headers, s, stream),
    body: strings.serialize(body),
    signal: ctx.cancellation,
    stream,
  });
  const contentType = String(res.headers['content-type'] ?? '');
  const { id, created } = completionIds();

  if (res.status >= 400) {
    return errorAnswer(geminiErrorToOpenAI(res.status, await readAll(res.body), res.headers));
  }
  if (stream && contentType.startsWith('text/event-stream')) {
    const t = new GeminiToOpenAIStream({ id, created, model, includeUsage: openai.stream_options?.include_usage === true });
    return { status: 200, headers: { ...SSE_HEADERS }, body: translatedBody(res.body as AsyncIterable<Uint8Array>, t), meter: meterOf(t) };
  }
  // Read outside the parse's try: a connection cut mid-body is not a body that is not JSON.
  const raw = await readAll(res.body);
  let answer: GeminiResponse;
  try {
    answer = JSON.parse(raw.toString('utf8')) as GeminiResponse;
  } catch {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${res.status} with a body that is not a JSON GenerateContentResponse (${contentType || 'no content-type'})`);
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answered with something other than a GenerateContentResponse');
  const { body: completion, usage } = translatedAnswer(() => geminiToOpenAIResponse(answer, { id, created, model }), 'GenerateContentResponse');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(completion)), meter: meterOf({ usage, model: answer.modelVersion }) };
}
