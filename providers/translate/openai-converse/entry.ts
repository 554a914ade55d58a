/**
 * The entry point a Bedrock provider's `chat()` calls: everything about serving an OpenAI
 * chat request with Converse except the HTTP, the SigV4 signing and the event-stream
 * framing. Pure apart from the completion id and clock (both injectable).
 *
 * @example
 * const plan = prepareConverseChat(request, { defaultMaxTokens: 4096 });
 * const res = await forwardUpstream(pool, { method: 'POST', path: basePath + plan.path, headers: sign(plan.body), body: plan.body, signal, stream: plan.stream });
 * if (res.status !== 200 || !plan.stream) return plan.answer(res.status, await readAll(res.body), res.headers);
 * const t = plan.streamTranslator();
 * body = translateConverseEvents(decodeFrames(res.body), t); // decodeFrames: eventstream-codec + eventFromMessage
 */
import type { ChatRequest, ProviderResponse, TokenUsage } from '../../../core/types.js';
import { emptyUsage } from '../../../core/context.js';
import { GatewayError } from '../../../core/errors.js';
import { TEXT_STRINGS } from '../../../core/json-body.js';
import { newHexId } from '../../../core/request-id.js';
import type { OpenAIChatRequest } from '../openai-anthropic/openai-types.js';
import type { ConverseResponse, ConverseStreamEvent } from './converse-types.js';
import { converseErrorToOpenAI } from './error.js';
import { openAIToConverseRequest, type ConverseRequestOptions } from './request.js';
import { converseToOpenAIResponse } from './response.js';
import { ConverseToOpenAIStream } from './stream.js';
import { translatedAnswer } from '../translated-answer.js';
import { encodeModelId } from '../../bedrock/paths.js';

export interface ConverseChatOptions extends ConverseRequestOptions {
  /** Defaults to a fresh `chatcmpl-…`. */
  readonly id?: string;
  /** Unix seconds; defaults to now. */
  readonly created?: number;
}

/** A whole (non-streamed or error) answer, translated, with the usage to account. */
export interface ConverseChatAnswer extends ProviderResponse {
  body: Uint8Array;
  usage: TokenUsage;
}

export interface ConverseChat {
  readonly modelId: string;
  readonly stream: boolean;
  /** Path under the runtime endpoint: `/model/{modelId}/converse` or `/model/{modelId}/converse-stream`. */
  readonly path: string;
  /** The JSON request body, as bytes to sign and send. */
  readonly body: Buffer;
  /** Translate a non-streamed answer, or any error answer (status ≥ 400), into the client's response. */
  answer(status: number, body: Uint8Array, headers: Record<string, string | string[] | undefined>): ConverseChatAnswer;
  /** The translator for a 200 ConverseStream: feed it decoded events (it is also the usage meter). */
  streamTranslator(): ConverseToOpenAIStream;
}

/**
 * Plan one unified chat request on Converse.
 * @throws GatewayError 400 for a request Converse cannot serve (see `openAIToConverseRequest`).
 */
export function prepareConverseChat(request: ChatRequest, options: ConverseChatOptions = {}): ConverseChat {
  const openai = request as OpenAIChatRequest;
  const strings = options.strings ?? TEXT_STRINGS;
  const converse = openAIToConverseRequest(openai, options);
  // As text: it goes into the (signed) URL and the answer, not into the body.
  const modelId = strings.text(openai.model);
  const stream = openai.stream === true;
  const id = options.id ?? `chatcmpl-${newHexId()}`;
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const json = { 'content-type': 'application/json' };
  return {
    modelId,
    stream,
    path: `/model/${encodeModelId(modelId)}/${stream ? 'converse-stream' : 'converse'}`,
    body: strings.serialize(converse),
    answer(status, body, headers) {
      if (status >= 400) {
        const e = converseErrorToOpenAI(status, body, headers);
        return { status: e.status, headers: { ...json, ...e.headers }, body: Buffer.from(JSON.stringify(e.body)), usage: emptyUsage() };
      }
      let parsed: ConverseResponse;
      try {
        parsed = JSON.parse(Buffer.from(body).toString('utf8')) as ConverseResponse;
      } catch {
        throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered ${status} with a body that is not a JSON Converse response`);
      }
      const { body: completion, usage } = translatedAnswer(() => converseToOpenAIResponse(parsed, { id, created, model: modelId }), 'Converse response');
      return { status: 200, headers: json, body: Buffer.from(JSON.stringify(completion)), usage };
    },
    streamTranslator: () => new ConverseToOpenAIStream({ id, created, model: modelId, includeUsage: openai.stream_options?.include_usage === true }),
  };
}

/** A message as `@smithy/eventstream-codec`'s `EventStreamCodec.decode` yields it. */
export interface DecodedMessage {
  headers: Record<string, { type: string; value: unknown }>;
  body: Uint8Array;
}

/**
 * One decoded event-stream message as a {@link ConverseStreamEvent}: `{ [event-type]: payload }`
 * for events and exceptions alike; undefined for a message that is neither.
 * @throws GatewayError 502 when the payload is not JSON.
 */
export function eventFromMessage(message: DecodedMessage): ConverseStreamEvent | undefined {
  const kind = message.headers[':message-type']?.value;
  const name = kind === 'exception' ? message.headers[':exception-type']?.value : kind === 'event' ? message.headers[':event-type']?.value : undefined;
  if (typeof name !== 'string') {
    // An `error` message (`:error-code`, `:error-message`) has no JSON payload.
    if (kind === 'error') return { internalServerException: { message: String(message.headers[':error-message']?.value ?? 'Upstream stream failed') } };
    return undefined;
  }
  let payload: unknown;
  try {
    payload = message.body.length === 0 ? {} : JSON.parse(Buffer.from(message.body).toString('utf8'));
  } catch {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream sent an unreadable ${name} event`);
  }
  return { [name]: payload } as ConverseStreamEvent;
}

/** Decoded events in, OpenAI SSE bytes out, as they come; the translator's `end()` at the end. */
export async function* translateConverseEvents(events: AsyncIterable<ConverseStreamEvent>, t: ConverseToOpenAIStream): AsyncGenerator<Uint8Array> {
  for await (const event of events) {
    const out = t.push(event);
    if (out.length > 0) yield out;
  }
  const tail = t.end();
  if (tail.length > 0) yield tail;
}
