/**
 * The unified endpoint on Bedrock: an OpenAI chat request translated to Converse, sent to
 * `/model/{modelId}/converse` (or `/converse-stream`) signed like any pass-through
 * request, and the answer translated back — a JSON body whole; a ConverseStream frame by
 * frame as the bytes arrive (only a partial frame is ever held), each decoded event turned
 * into `chat.completion.chunk`s at once; Bedrock errors as OpenAI error objects with the
 * status the `openai` SDKs map to the right exception class.
 */
import { GatewayError, GeneratedBody, TEXT_STRINGS, type BodyStrings, type Cancellation, type ChatRequest, type ProviderResponse, type RequestContext } from '../../core/index.js';
import { readAll } from '../common/body.js';
import { chatHeaders, meterOf } from '../common/translated-chat.js';
import { eventFromMessage, prepareConverseChat, type ConverseToOpenAIStream, type DecodedMessage } from '../translate/openai-converse/index.js';
import type { BetaAllowlist } from './betas.js';
import { EventStreamReader, type EventFrame } from './eventstream.js';

/** Signs with the gateway's credentials and forwards: the provider's pass-through sender. */
/** `stream`: the answer streams (see `UpstreamRequest.stream`). */
export type SignedSend = (method: string, path: string, headers: Record<string, string>, body: Buffer, signal: Cancellation, stream: boolean) => Promise<ProviderResponse>;

export interface ChatSettings {
  /** The base URL's path, prefixed to `/model/…`. */
  basePath: string;
  /** Opted-in gateway headers (lower-cased) copied from the client's request. */
  forwardHeaders: readonly string[];
  /** `anthropic_betas`: shortens an `anthropic-beta` header an operator forwards (`forward_headers`). */
  betas?: BetaAllowlist | undefined;
  send: SignedSend;
}

const EVENT_STREAM = 'application/vnd.amazon.eventstream';

function requestHeaders(ctx: RequestContext, s: ChatSettings, stream: boolean): Record<string, string> {
  const headers = chatHeaders(ctx.headers, s.forwardHeaders, { accept: stream ? EVENT_STREAM : 'application/json' });
  return s.betas ? s.betas.headers(ctx, headers) : headers;
}

/** The reader's frames in the shape the translator's `eventFromMessage` takes (only string headers matter). */
function messageOf(frame: EventFrame): DecodedMessage {
  const headers: DecodedMessage['headers'] = {};
  for (const [name, value] of Object.entries(frame.headers)) headers[name] = { type: 'string', value };
  return { headers, body: frame.body };
}

/**
 * A stream that stopped being readable: a server error chunk for the client, recorded as
 * `reason` — unless the answer was already whole, when the translator ignores it.
 */
function fail(t: ConverseToOpenAIStream, message: string, reason: string): Uint8Array {
  const before = t.streamError;
  const out = t.push({ internalServerException: { message } });
  if (t.streamError !== before) t.streamError = reason;
  return out;
}

/**
 * The upstream event stream in, OpenAI SSE bytes out, one write per upstream chunk that
 * completed a frame. A malformed or truncated stream ends with an error chunk; a failing
 * connection throws, and core appends the unified dialect's error chunk.
 */
async function* translateFrames(upstream: AsyncIterable<Uint8Array>, t: ConverseToOpenAIStream): AsyncGenerator<Uint8Array> {
  const frames: EventFrame[] = [];
  // Frames are collected, not translated, in the callback: a throw there would leave the reader mid-chunk.
  const reader = new EventStreamReader((f) => frames.push(f));
  const translate = (): Buffer => {
    const out: Uint8Array[] = [];
    for (const f of frames.splice(0)) {
      const event = eventFromMessage(messageOf(f));
      if (event) out.push(t.push(event));
    }
    return Buffer.concat(out);
  };
  for await (const chunk of upstream) {
    reader.push(chunk);
    let out = frames.length > 0 ? translate() : Buffer.alloc(0);
    if (reader.broken) out = Buffer.concat([out, fail(t, 'Upstream sent a malformed event stream', `malformed event stream: ${reader.broken}`)]);
    if (out.length > 0) yield out;
    if (reader.broken) return;
  }
  const cut = reader.truncated ? fail(t, 'Upstream stream ended in the middle of an event', 'event stream ended in the middle of a frame') : new Uint8Array(0);
  const rest = Buffer.concat([cut, t.end()]);
  if (rest.length > 0) yield rest;
}

/**
 * Serve one unified chat request on Bedrock Converse.
 * @throws GatewayError 400 for a request Converse cannot serve (a remote image URL, `n` > 1, …), before anything is sent.
 */
export async function bedrockChat(ctx: RequestContext, request: ChatRequest, s: ChatSettings, strings: BodyStrings = TEXT_STRINGS): Promise<ProviderResponse> {
  const plan = prepareConverseChat(request, { strings });
  const res = await s.send('POST', `${s.basePath}${plan.path}`, requestHeaders(ctx, s, plan.stream), plan.body, ctx.cancellation, plan.stream);
  const contentType = String(res.headers['content-type'] ?? '');
  if (res.status >= 400 || !plan.stream) {
    const answer = plan.answer(res.status, await readAll(res.body), res.headers);
    return { status: answer.status, headers: answer.headers, body: answer.body, meter: meterOf({ usage: answer.usage, model: plan.modelId }) };
  }
  const upstream = res.body;
  if (!contentType.startsWith(EVENT_STREAM) || upstream === null || upstream instanceof Uint8Array) {
    (upstream as { destroy?: () => void } | null)?.destroy?.();
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered a ConverseStream with ${contentType || 'no content-type'}, not an event stream`);
  }
  const t = plan.streamTranslator();
  const body = new GeneratedBody(translateFrames(upstream, t), () => (upstream as { destroy?: () => void }).destroy?.());
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body, meter: t.meter() };
}
