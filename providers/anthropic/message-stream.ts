/**
 * Anthropic Messages: a complete message ↔ its SSE event sequence, the dialect's
 * `cacheConverter`, so a response cache entry stored from a streamed answer serves a JSON
 * request and the other way round. The events are
 * those the API sends (https://docs.anthropic.com/en/docs/build-with-claude/streaming):
 * `message_start`, per block `content_block_start` / deltas / `content_block_stop`,
 * `message_delta` with the stop reason and usage, `message_stop`.
 */
import { SseDecoder, type ResponseConverter } from '../../core/index.js';

type Json = Record<string, unknown>;

function event(name: string, data: Json): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The events for one content block: its start with the content emptied, one delta per part, its stop. */
function blockEvents(block: Json, index: number, out: string[]): void {
  const start: Json = { ...block };
  const deltas: Json[] = [];
  if (block.type === 'text') {
    start.text = '';
    if (Array.isArray(block.citations)) {
      start.citations = [];
      for (const citation of block.citations) deltas.push({ type: 'citations_delta', citation });
    }
    if (block.text) deltas.push({ type: 'text_delta', text: block.text });
  } else if (block.type === 'thinking') {
    start.thinking = '';
    start.signature = '';
    if (block.thinking) deltas.push({ type: 'thinking_delta', thinking: block.thinking });
    if (block.signature) deltas.push({ type: 'signature_delta', signature: block.signature });
  } else if ('input' in block) {
    // tool_use, server_tool_use, mcp_tool_use: the input arrives as JSON text.
    start.input = {};
    const json = JSON.stringify(block.input ?? {});
    if (json !== '{}') deltas.push({ type: 'input_json_delta', partial_json: json });
  }
  out.push(event('content_block_start', { type: 'content_block_start', index, content_block: start }));
  for (const delta of deltas) out.push(event('content_block_delta', { type: 'content_block_delta', index, delta }));
  out.push(event('content_block_stop', { type: 'content_block_stop', index }));
}

/** A message body as the event stream the API would have sent; undefined if it is not a message. */
export function messageToSse(json: Uint8Array): Buffer | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(Buffer.from(json).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(msg) || msg.type !== 'message' || !Array.isArray(msg.content)) return undefined;
  const usage = isObject(msg.usage) ? msg.usage : {};
  const out = [
    event('message_start', {
      type: 'message_start',
      message: { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } },
    }),
  ];
  msg.content.forEach((block, i) => {
    if (isObject(block)) blockEvents(block, i, out);
  });
  out.push(
    event('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason ?? null, stop_sequence: msg.stop_sequence ?? null }, usage }),
    event('message_stop', { type: 'message_stop' }),
  );
  return Buffer.from(out.join(''));
}

/** Rebuilds the message from its events; undefined unless the stream ended with `message_stop` and no `error`. */
class MessageAssembler {
  message: Json | undefined;
  done = false;
  failed = false;
  private readonly partialJson = new Map<number, string>();
  /** Blocks started and not yet stopped: a message_stop with one open is a cut message. */
  private open = 0;
  private readonly stopped = new Set<number>();

  onEvent(name: string, data: string): void {
    if (this.failed || name === 'ping') return;
    let e: Json;
    try {
      e = JSON.parse(data) as Json;
    } catch {
      this.failed = true;
      return;
    }
    const type = name === 'message' ? e.type : name;
    if (type === 'error') this.failed = true;
    else if (type === 'message_start' && isObject(e.message)) this.message = { ...e.message, content: [] };
    else if (!this.message) this.failed = true;
    else if (type === 'content_block_start') this.start(e.index, e.content_block);
    else if (type === 'content_block_delta') this.delta(e.index, e.delta);
    else if (type === 'content_block_stop') this.stop(e.index);
    else if (type === 'message_delta') {
      const delta = isObject(e.delta) ? e.delta : {};
      if ('stop_reason' in delta) this.message.stop_reason = delta.stop_reason;
      if ('stop_sequence' in delta) this.message.stop_sequence = delta.stop_sequence;
      if (isObject(e.usage)) this.message.usage = { ...(isObject(this.message.usage) ? this.message.usage : {}), ...e.usage };
    } else if (type === 'message_stop') {
      if (this.open !== 0) this.failed = true;
      this.done = true;
    }
  }

  private blocks(): Json[] {
    return this.message!.content as Json[];
  }

  /**
   * The API numbers blocks 0, 1, 2… in order; any other index fails the assembly. Stored
   * at an upstream's arbitrary index, one `"index": 30000000` made a sparse array whose
   * stringify stalled the event loop for seconds.
   */
  private start(index: unknown, block: unknown): void {
    const blocks = this.blocks();
    if (index !== blocks.length || !isObject(block)) return void (this.failed = true);
    blocks.push({ ...block });
    this.open++;
  }

  /** The block a delta or stop names, if it was started; an own array element only (not `length`). */
  private block(index: unknown): Json | undefined {
    const blocks = this.blocks();
    return typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < blocks.length ? blocks[index] : undefined;
  }

  private delta(index: unknown, delta: unknown): void {
    const block = this.block(index);
    if (!block || !isObject(delta)) return void (this.failed = true);
    if (delta.type === 'text_delta') block.text = String(block.text ?? '') + String(delta.text ?? '');
    else if (delta.type === 'thinking_delta') block.thinking = String(block.thinking ?? '') + String(delta.thinking ?? '');
    else if (delta.type === 'signature_delta') block.signature = delta.signature;
    else if (delta.type === 'citations_delta') ((block.citations ??= []) as unknown[]).push(delta.citation);
    else if (delta.type === 'input_json_delta') this.partialJson.set(index as number, (this.partialJson.get(index as number) ?? '') + String(delta.partial_json ?? ''));
    // A kind this does not know carries content it would drop: not a message it can rebuild.
    else this.failed = true;
  }

  private stop(index: unknown): void {
    const block = this.block(index);
    if (!block || this.stopped.has(index as number)) return void (this.failed = true);
    this.stopped.add(index as number);
    this.open--;
    const json = this.partialJson.get(index as number);
    if (json === undefined) return;
    try {
      block.input = json === '' ? {} : JSON.parse(json);
    } catch {
      this.failed = true;
    }
  }
}

export function sseToMessage(sse: Uint8Array): Buffer | undefined {
  const assembler = new MessageAssembler();
  const decoder = new SseDecoder((name, data) => assembler.onEvent(name, data));
  decoder.push(sse);
  decoder.end();
  if (assembler.failed || !assembler.done || !assembler.message) return undefined;
  return Buffer.from(JSON.stringify(assembler.message));
}

export const messageStreamConverter: ResponseConverter = { toSse: messageToSse, toJson: sseToMessage };
