/**
 * A fast mock of the Anthropic Messages and OpenAI chat APIs for benchmarks. Responses
 * are precomputed per (kind, frames) so the mock is never the bottleneck. Stream shape is
 * chosen per request by headers: `x-mock-frames` (default 64), `x-mock-interval-ms`
 * (default 0), `x-mock-ttft-ms` (default 0) — or, for callers whose headers do not reach
 * the upstream (the gateway's unified endpoint), by a model named `…-shape-f64-i5-t20`.
 * Likewise a stream's tag (`x-mock-tag`, below) may come as an OpenAI `user` of `mt-…`,
 * which the unified endpoint forwards as Anthropic's `metadata.user_id`.
 */
import http from 'node:http';
import { sharedClockMs } from './clock.js';

const JSON_MESSAGE = Buffer.from(
  JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model: 'claude-bench',
    content: [{ type: 'text', text: 'Hello from the benchmark mock.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 250, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  }),
);
const JSON_CHAT = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1760000000,
    model: 'gpt-bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark mock.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 250, completion_tokens: 12, total_tokens: 262 },
  }),
);

function anthropicFrames(n: number): Buffer[] {
  const ev = (event: string, data: unknown): Buffer => Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const frames = [
    ev('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-bench', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 250, output_tokens: 1 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < Math.max(0, n - 5); i++) frames.push(ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `tok${i} ` } }));
  frames.push(
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: Math.max(1, n - 5) } }),
    ev('message_stop', { type: 'message_stop' }),
  );
  return frames;
}

function openaiFrames(n: number): Buffer[] {
  const chunk = (delta: unknown, finish: string | null): Buffer =>
    Buffer.from(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1760000000, model: 'gpt-bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
  const frames = [chunk({ role: 'assistant', content: '' }, null)];
  for (let i = 0; i < Math.max(0, n - 3); i++) frames.push(chunk({ content: `tok${i} ` }, null));
  frames.push(chunk({}, 'stop'), Buffer.from('data: [DONE]\n\n'));
  return frames;
}

const cache = new Map<string, Buffer[]>();
function frames(kind: 'anthropic' | 'openai', n: number): Buffer[] {
  const key = `${kind}:${n}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = kind === 'anthropic' ? anthropicFrames(n) : openaiFrames(n)));
  return f;
}

const STREAM_MARK = Buffer.from('"stream":true');
const NO_STREAM_MARK = Buffer.from('"stream":false');
/** Where the bench's own bodies say whether they stream (messagesBody puts the flag first). */
const HEAD_BYTES = 512;

/**
 * Whether a request asks for a stream. The bench's bodies say so in their first bytes; a
 * search of a whole 100 KB prompt (slower for real text than for `x`s) would make the mock,
 * on the load generator's core, the bottleneck of the large-body rows.
 */
function wantsStream(body: Buffer): boolean {
  const head = body.subarray(0, HEAD_BYTES);
  if (head.indexOf(STREAM_MARK) >= 0) return true;
  if (head.indexOf(NO_STREAM_MARK) >= 0) return false;
  return body.indexOf(STREAM_MARK) >= 0;
}
const SHAPE = /-shape-f(\d+)-i(\d+)-t(\d+)/;

/** Frames, interval and time to first token: from the headers, else from a shaped model name near the body's start. */
function shapeOf(req: http.IncomingMessage, body: Buffer): [number, number, number] {
  const h = req.headers;
  if (h['x-mock-frames'] !== undefined) return [Number(h['x-mock-frames']), Number(h['x-mock-interval-ms'] ?? 0), Number(h['x-mock-ttft-ms'] ?? 0)];
  const m = SHAPE.exec(body.toString('latin1', 0, Math.min(body.length, 256)));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [64, 0, 0];
}

const BODY_TAG = /"user(?:_id)?":"(mt-[^"]+)"/;

/** The stream's tag: the `x-mock-tag` header, else a `mt-…` user in the body (a unified-endpoint request). */
function tagOf(req: http.IncomingMessage, body: Buffer): string | undefined {
  const h = req.headers['x-mock-tag'];
  if (typeof h === 'string') return h;
  // Found in the bytes first: a 100 KB prompt is not decoded to look for it.
  const at = body.indexOf('":"mt-');
  if (at < 0) return undefined;
  return BODY_TAG.exec(body.toString('latin1', Math.max(0, at - 10), at + 256))?.[1];
}

/**
 * When a request tagged `x-mock-tag` arrived and when each of its frames was written (timed
 * streams only); read (and cleared) at GET /mock-times.
 */
const times = new Map<string, { recv: number; writes: number[] }>();
const MAX_TIMES = 100_000;

export function createMockUpstream(): http.Server {
  return http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.method === 'GET' && req.url === '/mock-times') {
      const body = JSON.stringify(Object.fromEntries(times));
      times.clear();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const kind = req.url!.includes('chat/completions') ? 'openai' : 'anthropic';
      if (!wantsStream(body)) {
        const payload = kind === 'openai' ? JSON_CHAT : JSON_MESSAGE;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
        res.end(payload);
        return;
      }
      const [n, interval, ttft] = shapeOf(req, body);
      const list = frames(kind, n);
      const tag = tagOf(req, body);
      const stamp = tag !== undefined && times.size < MAX_TIMES ? { recv: sharedClockMs(), writes: [] as number[] } : undefined;
      if (stamp && tag !== undefined) times.set(tag, stamp);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (interval === 0 && ttft === 0) {
        for (const f of list) res.write(f);
        res.end();
        return;
      }
      let i = 0;
      const next = (): void => {
        if (res.destroyed) return;
        stamp?.writes.push(sharedClockMs());
        res.write(list[i++]);
        if (i === list.length) res.end();
        else setTimeout(next, interval);
      };
      setTimeout(next, ttft);
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile
  const port = Number(process.argv[2] ?? 0);
  const server = createMockUpstream();
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
}
