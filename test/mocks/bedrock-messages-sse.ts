/**
 * The Bedrock mock's Messages-API streams (`bedrock-mock.ts`): Anthropic's SSE events as the
 * Messages API sends them, written one by one with every other one split mid-event, and an
 * `error` event after two on demand.
 */
import type http from 'node:http';

/** Token counts a stream reports. */
export interface StreamUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** A Messages stream's events for `model`, its text delivered a word a delta. */
export function messageEvents(model: string, text: string, u: StreamUsage): string[] {
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id: 'msg_bdrk_04', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.input, output_tokens: 1, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: u.cacheWrite } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    'event: ping\ndata: {"type": "ping"}\n\n',
    ...text.split(' ').map((w, i) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `${i ? ' ' : ''}${w}` } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output } }),
    ev('message_stop', {}),
  ];
}

/** SSE events written one by one, every other one split mid-event; `exception` becomes an `error` event after two; `gate` holds event `after` back until released. */
export async function writeSse(res: http.ServerResponse, events: string[], exception: { type: string; message: string } | undefined, gate: { after: number; release: Promise<void> } | undefined): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-amzn-requestid': 'mock-req-sse' });
  const sent = exception ? events.slice(0, 2) : events;
  for (const [i, e] of sent.entries()) {
    if (gate && i === gate.after) await gate.release;
    if (i % 2 === 1) {
      res.write(e.slice(0, 9));
      await new Promise((r) => setTimeout(r, 2));
      res.write(e.slice(9));
    } else res.write(e);
  }
  if (exception) res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: exception.type, message: exception.message } })}\n\n`);
  res.end();
}
