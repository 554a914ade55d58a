/**
 * The unified endpoint on Anthropic: an OpenAI chat request translated to Messages,
 * forwarded to `/v1/messages`, and the answer translated back — a JSON body whole, a
 * stream event by event as upstream chunks arrive (never buffered), errors as OpenAI
 * error objects with the status the `openai` SDKs map to the right exception class.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardUpstream, GatewayError, TEXT_STRINGS, type BodyStrings, type ChatRequest, type ProviderResponse, type RequestContext } from '../../core/index.js';
import {
  anthropicErrorToOpenAI,
  anthropicToOpenAIResponse,
  AnthropicToOpenAIStream,
  openAIToAnthropicRequest,
  type AnthropicMessage,
  type OpenAIChatRequest,
} from '../translate/openai-anthropic/index.js';
import { readAll } from '../common/body.js';
import { chatHeaders, completionIds, errorAnswer, meterOf, SSE_HEADERS, translatedBody } from '../common/translated-chat.js';
import { translatedAnswer } from '../translate/translated-answer.js';

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

function requestHeaders(incoming: IncomingHttpHeaders, s: ChatSettings, stream: boolean): Record<string, string> {
  return chatHeaders(incoming, s.forwardHeaders, { accept: stream ? 'text/event-stream' : 'application/json', 'anthropic-version': s.anthropicVersion, 'x-api-key': s.apiKey });
}

export async function anthropicChat(ctx: RequestContext, request: ChatRequest, s: ChatSettings, strings: BodyStrings = TEXT_STRINGS): Promise<ProviderResponse> {
  const openai = request as OpenAIChatRequest;
  // The translation copies the prompt's strings as they are held: as bytes, never decoded.
  const body = openAIToAnthropicRequest(openai, { defaultMaxTokens: s.defaultMaxTokens, strings });
  const stream = body.stream === true;
  const res = await forwardUpstream(s.pool, {
    method: 'POST',
    path: s.path,
    headers: requestHeaders(ctx.headers, s, stream),
    body: strings.serialize(body),
    signal: ctx.cancellation,
    stream,
  });
  const contentType = String(res.headers['content-type'] ?? '');
  const { id, created } = completionIds();

  if (res.status >= 400) {
    return errorAnswer(anthropicErrorToOpenAI(res.status, await readAll(res.body), res.headers));
  }
  if (contentType.startsWith('text/event-stream')) {
    const t = new AnthropicToOpenAIStream({ id, created, includeUsage: openai.stream_options?.include_usage === true });
    return { status: 200, headers: { ...SSE_HEADERS }, body: translatedBody(res.body as AsyncIterable<Uint8Array>, t), meter: meterOf(t) };
  }
  // Read outside the parse's try: a connection cut mid-body is not a body that is not JSON.
  const raw = await readAll(res.body);
  let message: AnthropicMessage;
  try {
    message = JSON.parse(raw.toString('utf8')) as AnthropicMessage;
  } catch {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${res.status} with a body that is not a JSON message (${contentType || 'no content-type'})`);
  }
  if (message?.type !== 'message') throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answered with something other than a message');
  const { body: completion, usage } = translatedAnswer(() => anthropicToOpenAIResponse(message, { id, created }), 'message');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(completion)), meter: meterOf({ usage, model: message.model }) };
}
