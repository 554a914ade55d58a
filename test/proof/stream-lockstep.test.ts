/**
 * The gateway never holds a stream's frame back, whatever the host's load: a lockstep
 * upstream writes each step of its stream only once the client has read what the step
 * before became, so a gateway that kept any of it (waiting for more bytes to fill a write,
 * or for the next event to decide on this one) stalls the stream, and the step's deadline
 * names it. With one step in flight at a time nothing can be merged either: this is the
 * benchmark's "no merged frames" row without its timers, which a loaded host makes late.
 * The whole bench chain is on (auth, rate limits, audit, validator); clients over HTTP/1.1
 * and, for Anthropic, HTTP/2. Passed-through streams (Anthropic SSE, Bedrock's event-stream
 * frames) must arrive byte for byte; translated ones a chunk per word.
 */
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';
import { chunk as invokeChunk, event as awsEvent } from '../mocks/bedrock-mock.js';

/** How long a step's output may take to reach the client before it counts as held. */
const STEP_DEADLINE_MS = 5000;
const WORDS = Array.from({ length: 16 }, (_, i) => `w${i} `);

const sse = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: unknown): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-l', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

/** An Anthropic Messages stream's events in steps: the opening, one step per word, the close. */
type AnthropicEvent = { type: string } & Record<string, unknown>;
const ANTHROPIC_EVENTS: ReadonlyArray<readonly AnthropicEvent[]> = [
  [
    { type: 'message_start', message: { id: 'msg_l', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ...WORDS.map((w) => [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } }]),
  [{ type: 'content_block_stop', index: 0 }, { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: WORDS.length } }, { type: 'message_stop' }],
];
/** As Anthropic's API sends it: SSE. */
const ANTHROPIC_STEPS: readonly string[] = ANTHROPIC_EVENTS.map((step) => step.map((e) => sse(e.type, e)).join(''));

/** An OpenAI chat stream with usage: the role, one step per word, the finish, the usage, the end. */
const OPENAI_STEPS: readonly string[] = [
  chunk({ role: 'assistant', content: '' }),
  ...WORDS.map((w) => chunk({ content: w })),
  chunk({}, 'stop'),
  chunk({}, null, { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length }),
  'data: [DONE]\n\n',
];

/** A Gemini stream (`alt=sse`): one chunk per word, running usage, the last one finished. */
const GEMINI_STEPS: readonly string[] = WORDS.map((w, i) => {
  const last = i === WORDS.length - 1;
  const candidate = { content: { parts: [{ text: w }], role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) };
  const usageMetadata = { promptTokenCount: 12, candidatesTokenCount: i + 1, totalTokenCount: 13 + i };
  return `data: ${JSON.stringify({ candidates: [candidate], usageMetadata, modelVersion: 'gemini-2.5-flash', responseId: 'resp-l' })}\r\n\r\n`;
});

/** A Bedrock ConverseStream answer: the start, one frame per word, then the stop and the usage together. */
const CONVERSE_STEPS: readonly Uint8Array[] = [
  awsEvent('messageStart', { role: 'assistant' }),
  ...WORDS.map((w) => awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: w } })),
  Buffer.concat([
    awsEvent('contentBlockStop', { contentBlockIndex: 0 }),
    awsEvent('messageStop', { stopReason: 'end_turn' }),
    awsEvent('metadata', { usage: { inputTokens: 12, outputTokens: WORDS.length, totalTokens: 12 + WORDS.length }, metrics: { latencyMs: 30 } }),
  ]),
];

/** As Bedrock's InvokeModelWithResponseStream sends it: each event base64 in a `chunk` frame. */
const INVOKE_STEPS: readonly Uint8Array[] = ANTHROPIC_EVENTS.map((step) => Buffer.concat(step.map(invokeChunk)));

const SSE = 'text/event-stream';
const EVENT_STREAM = 'application/vnd.amazon.eventstream';

/** What the upstream plays for a request, by its path's end; anything else is an OpenAI chat stream. */
const ROUTES: ReadonlyArray<{ matches: (url: string) => boolean; steps: ReadonlyArray<string | Uint8Array>; contentType: string }> = [
  { matches: (url) => url.endsWith('/messages'), steps: ANTHROPIC_STEPS, contentType: SSE },
  { matches: (url) => url.includes(':streamGenerateContent'), steps: GEMINI_STEPS, contentType: SSE },
  { matches: (url) => url.endsWith('/converse-stream'), steps: CONVERSE_STEPS, contentType: EVENT_STREAM },
  { matches: (url) => url.endsWith('/invoke-with-response-stream'), steps: INVOKE_STEPS, contentType: EVENT_STREAM },
  { matches: () => true, steps: OPENAI_STEPS, contentType: SSE },
];

/** The upstream: plays its steps one at a time, each after the client's read of the last. */
class LockstepUpstream {
  /** Per stream served: how many steps it wrote, and the step it waited on in vain, if any. */
  readonly served: Array<{ written: number; heldAt?: number }> = [];
  private release: (() => void) | undefined;
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LockstepUpstream> {
    let upstream: LockstepUpstream | undefined;
    const server = http.createServer((req, res) => void upstream!.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    upstream = new LockstepUpstream(server, `http://127.0.0.1:${port}`);
    return upstream;
  }

  /** The client has read the current step's output: write the next. */
  ack(): void {
    this.release?.();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    for await (const _ of req); // the request body: not needed
    const { steps, contentType } = ROUTES.find((r) => r.matches(req.url ?? ''))!;
    const record: { written: number; heldAt?: number } = { written: 0 };
    this.served.push(record);
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
    for (let i = 0; i < steps.length; i++) {
      res.write(steps[i]);
      record.written++;
      if (i === steps.length - 1) break;
      // Set before any I/O callback runs, so no ack can come before it.
      const acked = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), STEP_DEADLINE_MS);
        this.release = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!(await acked)) {
        record.heldAt = i;
        break;
      }
    }
    this.release = undefined;
    res.end();
  }
}

interface Streamed {
  status: number;
  /** The client's reads: the bytes the gateway wrote, as they arrived (latin1 for a binary stream). */
  reads: string[];
  /** The events read, whole: SSE events, or event-stream frames. */
  events: string[];
}

/** Whole events off the front of `text`, and what is left of it. */
type Splitter = (text: string) => { events: string[]; rest: string };

/** SSE: events end with a blank line. */
const sseEvents: Splitter = (text) => {
  const events: string[] = [];
  for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
    events.push(text.slice(0, end));
    text = text.slice(end + 2);
  }
  return { events, rest: text };
};

/** AWS event-stream frames, read as latin1 (a byte a character): each starts with its length. */
const eventStreamFrames: Splitter = (text) => {
  const events: string[] = [];
  while (text.length >= 4) {
    const length = Buffer.from(text.slice(0, 4), 'latin1').readUInt32BE(0);
    if (text.length < length) break;
    events.push(text.slice(0, length));
    text = text.slice(length);
  }
  return { events, rest: text };
};

/** Reads an answer as it arrives, telling the upstream to go on as each step's events complete. */
class StepReader {
  readonly out: Streamed;
  private text = '';
  private step = 0;

  /** `after[i]`: the events the client holds once step i is through. */
  constructor(
    status: number,
    private readonly upstream: LockstepUpstream,
    private readonly after: readonly number[],
    private readonly split: Splitter = sseEvents,
  ) {
    this.out = { status, reads: [], events: [] };
  }

  read(read: string): void {
    this.out.reads.push(read);
    const { events, rest } = this.split(this.text + read);
    this.out.events.push(...events);
    this.text = rest;
    if (this.step < this.after.length && this.out.events.length >= this.after[this.step]) {
      this.step++;
      this.upstream.ack();
    }
  }
}

/** POST `body` over HTTP/1.1 and read the answer in steps (StepReader). */
function streamThrough(url: string, headers: Record<string, string>, body: string, upstream: LockstepUpstream, after: readonly number[], binary = false): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const reader = new StepReader(res.statusCode ?? 0, upstream, after, binary ? eventStreamFrames : sseEvents);
      res.setEncoding(binary ? 'latin1' : 'utf8');
      res.on('data', (read: string) => reader.read(read));
      res.on('end', () => resolve(reader.out));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same over HTTP/2 with prior knowledge (h2c), as the AWS SDK for JavaScript connects. */
function streamThroughH2(url: string, headers: Record<string, string>, body: string, upstream: LockstepUpstream, after: readonly number[]): Promise<Streamed> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const session = http2.connect(u.origin);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': u.pathname, 'content-type': 'application/json', ...headers });
    req.setEncoding('utf8');
    let reader: StepReader | undefined;
    req.on('response', (head) => (reader = new StepReader(Number(head[':status']), upstream, after)));
    req.on('data', (read: string) => reader!.read(read));
    req.on('end', () => {
      session.close();
      resolve(reader!.out);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Events the client holds after each of `steps` steps, when each becomes one event. */
const cumulative = (steps: number): number[] => Array.from({ length: steps }, (_, i) => i + 1);

t.test('every step of a stream reaches the client before the upstream writes the next', async (t) => {
  const upstream = await LockstepUpstream.start();
  t.teardown(() => upstream.close());
  const dir = tempDir('gw-lockstep-');
  const { url } = await startGateway(
    t,
    `
providers:
  anthropic:
    base_url: ${upstream.url}
    api_key: sk-ant-lockstep
  openai:
    base_url: ${upstream.url}
    api_key: sk-openai-lockstep
  gemini:
    base_url: ${upstream.url}
    api_key: gemini-lockstep
  bedrock:
    region: us-east-1
    base_url: ${upstream.url}
    access_key_id: AKIDLOCKSTEP
    secret_access_key: lockstep-secret
filters:
  - name: auth
    config: { source: static }
  - name: rate-limit
  - name: audit
    config: { stdout: false, file: ${JSON.stringify(path.join(dir, 'audit.jsonl'))} }
  - name: validator
workspaces:
  ws-lockstep: { user: dev, project: proof }
rate_limits:
  default: { requests_per_minute: 100000, tokens_per_minute: 100000000 }
`,
    { watch: false },
  );
  const headers = { 'x-workspace-id': 'ws-lockstep', 'anthropic-version': '2023-06-01' };
  const messages = [{ role: 'user', content: 'Say sixteen words.' }];
  const held = (): string => upstream.served.map((s) => (s.heldAt === undefined ? `${s.written} steps` : `held after step ${s.heldAt}`)).join('; ');

  const anthropicBody = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, stream: true, messages });
  // The opening step holds two events, each word one, the close three.
  const anthropicAfter = [2, ...WORDS.map((_, i) => 3 + i)];
  for (const [transport, through] of [['HTTP/1.1', streamThrough], ['HTTP/2 (h2c)', streamThroughH2]] as const) {
    await t.test(`Anthropic Messages passed through, over ${transport}: each event as the upstream wrote it`, async (t) => {
      const got = await through(`${url}/v1/claude/v1/messages`, headers, anthropicBody, upstream, anthropicAfter);
      t.equal(got.status, 200);
      t.equal(upstream.served.at(-1)?.heldAt, undefined, `no step held back (${held()})`);
      t.equal(got.reads.join(''), ANTHROPIC_STEPS.join(''), 'the bytes the upstream wrote, unchanged');
      t.same(got.reads.filter((r) => r.includes('text_delta')), ANTHROPIC_STEPS.slice(1, -1), 'each word its own read, whole');
    });
  }

  await t.test('Bedrock InvokeModelWithResponseStream passed through: each frame as the upstream wrote it', async (t) => {
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages });
    const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
    const got = await streamThrough(`${url}/v1/bedrock/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream`, headers, body, upstream, anthropicAfter, true);
    t.equal(got.status, 200);
    t.equal(upstream.served.at(-1)?.heldAt, undefined, `no step held back (${held()})`);
    t.equal(got.reads.join(''), INVOKE_STEPS.map(latin1).join(''), 'the frames the upstream wrote, byte for byte');
    const words = new Set(INVOKE_STEPS.slice(1, -1).map(latin1));
    t.equal(got.reads.filter((r) => words.has(r)).length, WORDS.length, "each word's frame a read of its own, whole");
  });

  // Translated: the opening becomes the role's chunk (Gemini's first chunk the role's and the
  // first word's), each word a content chunk.
  const translated: ReadonlyArray<[provider: string, model: string, after: number[]]> = [
    ['Anthropic', 'claude-sonnet-4-5', cumulative(1 + WORDS.length)],
    ['Gemini', 'gemini-2.5-flash', WORDS.slice(1).map((_, i) => i + 2)],
    ['Bedrock Converse', 'amazon.nova-lite-v1:0', cumulative(1 + WORDS.length)],
  ];
  for (const [provider, model, after] of translated) {
    await t.test(`the unified endpoint translating ${provider}: each word a chunk of its own`, async (t) => {
      const body = JSON.stringify({ model, max_tokens: 256, stream: true, messages });
      const got = await streamThrough(`${url}/v1/chat/completions`, headers, body, upstream, after);
      t.equal(got.status, 200);
      t.equal(upstream.served.at(-1)?.heldAt, undefined, `no step held back (${held()})`);
      const wordsByRead = got.reads.map((r) => [...r.matchAll(/"content":"(w\d+ )"/g)].map((m) => m[1])).filter((w) => w.length > 0);
      t.same(wordsByRead, WORDS.map((w) => [w]), 'each word in a read of its own, in order');
      t.equal(got.events.at(-1), 'data: [DONE]');
    });
  }

  await t.test('the unified endpoint on OpenAI: each chunk as the upstream wrote it', async (t) => {
    const body = JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages });
    const got = await streamThrough(`${url}/v1/chat/completions`, headers, body, upstream, cumulative(OPENAI_STEPS.length - 1));
    t.equal(got.status, 200);
    t.equal(upstream.served.at(-1)?.heldAt, undefined, `no step held back (${held()})`);
    t.equal(got.events.length, OPENAI_STEPS.length, 'every chunk arrived');
    t.same(got.reads.filter((r) => r.includes('"content":"w')), OPENAI_STEPS.slice(1, 1 + WORDS.length), 'each word its own read, as written');
  });
});
