/**
 * The seed's convenience endpoint, `POST /v1/bedrock/invoke` with
 * `{"model_id": "...", "body": {...}, "stream": false}`: InvokeModel, answered with the
 * model's JSON as Bedrock sends it. With `"stream": true`, InvokeModelWithResponseStream,
 * answered as Server-Sent Events so curl users stream too: one `data: <model event JSON>`
 * per chunk, `event: error` for an exception frame, and `event: end` when done.
 */
import { GeneratedBody, SourceMeter, type ProviderResponse } from '../../core/index.js';
import { EventStreamReader, frameJson } from './eventstream.js';
import type { ConvenienceBody, ConvenienceRequest } from './inspect.js';
import { FrameUsage } from './usage.js';

export interface ConvenienceCall {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The native Runtime request behind a convenience request. */
export function convenienceCall(req: ConvenienceRequest, model: ConvenienceBody, basePath: string): ConvenienceCall {
  const op = req.stream ? 'invoke-with-response-stream' : 'invoke';
  return {
    path: `${basePath}/model/${req.modelSegment}/${op}`,
    headers: req.stream
      ? { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-accept': 'application/json' }
      : { 'content-type': 'application/json', accept: 'application/json' },
    body: model.strings.serialize(model.body),
  };
}

function sse(event: string | undefined, data: unknown): Buffer {
  return Buffer.from(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

/**
 * Turn a successful InvokeModelWithResponseStream response into SSE. Upstream failures
 * mid-stream end the SSE with an `error` event (and count as a stream error) rather than
 * a cut connection; a client abort still ends it at once.
 */
export function eventStreamToSse(upstream: ProviderResponse, signal: { readonly aborted: boolean }): ProviderResponse {
  const frames = new FrameUsage();
  const body = upstream.body;
  const destroyable = body as { destroy?: () => void } | null;
  const headers: Record<string, string | string[]> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
  const requestId = upstream.headers['x-amzn-requestid'];
  if (requestId) headers['x-amzn-requestid'] = requestId;
  return {
    status: upstream.status,
    headers,
    // `destroy` lets core free the upstream connection if the client left before reading.
    body: new GeneratedBody(translate(body, frames, signal), () => destroyable?.destroy?.()),
    meter: new SourceMeter(frames),
  };
}

/** The event stream's frames as SSE events, one write per upstream chunk that completed any. */
async function* translate(body: ProviderResponse['body'], frames: FrameUsage, signal: { readonly aborted: boolean }): AsyncGenerator<Uint8Array> {
  const out: Buffer[] = [];
  const reader = new EventStreamReader((f) => {
    const event = frames.frame(f);
    if (event) out.push(sse(undefined, event));
    else if (f.messageType !== 'event') out.push(sse('error', { type: f.type || f.messageType, ...((frameJson(f) as object | undefined) ?? {}) }));
  });
  try {
    if (body instanceof Uint8Array) reader.push(body);
    else if (body) {
      for await (const chunk of body) {
        reader.push(chunk);
        if (out.length > 0) yield Buffer.concat(out.splice(0));
      }
    }
  } catch (err) {
    if (signal.aborted) throw err;
    frames.streamError ??= `upstream stream failed: ${(err as Error)?.message ?? String(err)}`;
    yield Buffer.concat([...out.splice(0), sse('error', { type: 'internalServerException', message: 'The upstream stream failed' })]);
    return;
  }
  if (reader.broken || reader.truncated) {
    frames.streamError ??= `malformed event stream: ${reader.broken ?? 'ended mid-frame'}`;
    out.push(sse('error', { type: 'internalServerException', message: 'The upstream sent a malformed event stream' }));
  }
  out.push(sse('end', {}));
  yield Buffer.concat(out.splice(0));
}
