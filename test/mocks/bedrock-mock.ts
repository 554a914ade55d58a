/**
 * A local stand-in for the Bedrock Runtime on 127.0.0.1:0, faithful where the gateway can
 * tell. It verifies every SigV4 signature with its own verifier (`sigv4-check.ts`, not the
 * gateway's library) against the credentials it knows, the body against its declared
 * hash, and answers 403 in Bedrock's shape otherwise. It serves InvokeModel (Anthropic or
 * Titan JSON with the token-count headers), Converse, and both streams as real event-stream
 * frames (invocation metrics in the last InvokeModel chunk, a `metadata` event for
 * ConverseStream), with an exception frame mid-stream on demand, and StartAsyncInvoke (its
 * invocation ARN) with GetAsyncInvoke, CountTokens (`bedrock-count-tokens.ts`) and ApplyGuardrail. Converse answers
 * with a tool call when the request offers tools and the
 * conversation has no tool result yet, and a signed request can be answered with a Bedrock
 * error on demand. It records every request.
 * It serves the Anthropic Messages API at `/anthropic/v1/messages` as the Runtime does
 * (signed for `bedrock`, `anthropic_version` required in the body) or, started with
 * `service: 'bedrock-mantle'`, as bedrock-mantle does (the `anthropic-version` header
 * required), bedrock-mantle's count_tokens too: Anthropic's JSON answer or SSE stream, and Anthropic's error shape for what
 * the model refuses, while a bad signature is still AWS's 403.
 * Started with `api: 'control'` it is the control plane instead (`bedrock.{region}…`,
 * signed for `bedrock`): the model catalogue of `bedrock-control-plane.ts` and nothing of
 * the Runtime, as the Runtime host serves none of the catalogue.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { controlPlane } from './bedrock-control-plane.js';
import { mantleCount, runtimeCount, type CountAnswer } from './bedrock-count-tokens.js';
import { messageEvents, writeSse } from './bedrock-messages-sse.js';
import { parseAuthorization, sha256Hex, signature } from './sigv4-check.js';

export interface RecordedRequest {
  method: string;
  /** Raw request target, exactly as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The access key id the request was signed with, when the signature verified. */
  accessKeyId?: string;
  /** The model id decoded from the path. */
  modelId?: string;
}

export interface MockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export { MOCK_COUNTED_TOKENS } from './bedrock-count-tokens.js';

/** Token counts each response kind reports, distinct so a test knows which source was read. */
export const MOCK_USAGE = {
  invoke: { input: 11, output: 12 },
  converse: { input: 31, output: 32, cacheRead: 33, cacheWrite: 34 },
  invokeStream: { input: 41, output: 42, cacheRead: 43, cacheWrite: 44 },
  converseStream: { input: 51, output: 52, cacheRead: 53, cacheWrite: 54 },
  messages: { input: 61, output: 62, cacheRead: 63, cacheWrite: 64 },
  messagesStream: { input: 71, output: 72, cacheRead: 73, cacheWrite: 74 },
} as const;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(headers: Record<string, string>, payload: unknown): Uint8Array {
  const h: Record<string, { type: 'string'; value: string }> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  return codec.encode({ headers: h, body: fromUtf8(JSON.stringify(payload)) });
}

/** One event-stream event frame: `type` with a JSON payload. */
export const event = (type: string, payload: unknown): Uint8Array => frame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, payload);
/** An InvokeModel stream chunk: the model event, base64 in `bytes`, padded like AWS's. */
export const chunk = (modelEvent: unknown): Uint8Array => event('chunk', { bytes: Buffer.from(JSON.stringify(modelEvent)).toString('base64'), p: 'abcdefgh' });

/** The tool call Converse answers with when offered tools. */
export const MOCK_TOOL_USE = { toolUseId: 'tooluse_mock_01', input: { location: 'Paris, France', unit: 'celsius' } } as const;

/** Whether a Converse request offers tools and has no tool result yet: the mock then calls the first tool. */
function toolToCall(input: Record<string, unknown>): string | undefined {
  const tools = (input.toolConfig as { tools?: Array<{ toolSpec?: { name?: string } }> } | undefined)?.tools;
  const messages = (input.messages as Array<{ content?: Array<Record<string, unknown>> }> | undefined) ?? [];
  if (messages.some((m) => m.content?.some((b) => 'toolResult' in b))) return undefined;
  return tools?.[0]?.toolSpec?.name;
}

export class BedrockMock {
  readonly requests: RecordedRequest[] = [];
  /** The region signatures must be scoped to. */
  region = 'us-east-1';
  /** Words of the answer, one delta per word. */
  text = 'Hello from the Bedrock mock.';
  /** When set, a stream sends this exception frame after its first two frames and ends. */
  streamException: { type: string; message: string } | undefined;
  /** When set, a stream stops after this many frames until `release` settles (a test proves it is not buffered). */
  streamGate: { after: number; release: Promise<void> } | undefined;
  /** When set, the next correctly signed model call gets this error answer instead (Bedrock's shape). */
  nextError: { status: number; type: string; message: string; headers?: Record<string, string> } | undefined;
  private readonly credentials = new Map<string, MockCredentials>();
  private readonly server: http.Server;

  /** The signing name requests must be scoped to: `bedrock` (the Runtime) or `bedrock-mantle`. */
  readonly service: string;
  /** Which Bedrock host this is: the Runtime (or bedrock-mantle) or the control plane. */
  readonly api: 'runtime' | 'control';

  private constructor(creds: MockCredentials[], service: string, api: 'runtime' | 'control') {
    this.service = service;
    this.api = api;
    for (const c of creds) this.allow(c);
    this.server = http.createServer({ noDelay: true }, (req, res) => void this.handle(req, res));
  }

  static async start(creds: MockCredentials[], options: { service?: 'bedrock' | 'bedrock-mantle'; api?: 'runtime' | 'control' } = {}): Promise<BedrockMock> {
    const mock = new BedrockMock(creds, options.service ?? 'bedrock', options.api ?? 'runtime');
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  allow(creds: MockCredentials): void {
    this.credentials.set(creds.accessKeyId, creds);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Why the request's signature is not valid, or undefined when it is. */
  private verify(req: http.IncomingMessage, body: Buffer): { error?: [string, string]; accessKeyId?: string } {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return { error: ['MissingAuthenticationTokenException', 'Missing Authentication Token'] };
    const creds = this.credentials.get(auth.accessKeyId);
    if (!creds) return { error: ['UnrecognizedClientException', 'The security token included in the request is invalid.'] };
    if (auth.scope.service !== this.service || auth.scope.region !== this.region) return { error: ['InvalidSignatureException', `Credential should be scoped to ${this.region}/${this.service}`] };
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const hash = sha256Hex(body);
    if (req.headers['x-amz-content-sha256'] !== undefined && req.headers['x-amz-content-sha256'] !== hash) return { error: ['InvalidSignatureException', 'x-amz-content-sha256 does not match the body'] };
    if (creds.sessionToken !== undefined && (req.headers['x-amz-security-token'] !== creds.sessionToken || !auth.signedHeaders.includes('x-amz-security-token'))) {
      return { error: ['UnrecognizedClientException', 'The security token included in the request is invalid.'] };
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const expected = signature({
      method: req.method ?? 'GET',
      rawPath: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      headers: req.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash: hash,
      amzDate,
      scope: auth.scope,
      secretAccessKey: creds.secretAccessKey,
    });
    if (expected !== auth.signature || !auth.signedHeaders.includes('host')) return { error: ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.'] };
    return { accessKeyId: auth.accessKeyId };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    this.requests.push(record);
    const { error, accessKeyId } = this.verify(req, body);
    if (error) return fail(res, 403, error[0], error[1]);
    record.accessKeyId = accessKeyId;
    if (this.api === 'control') {
      const answer = controlPlane(record.method, record.url);
      if (!answer) return fail(res, 404, 'UnknownOperationException', `no operation ${req.method} ${record.url}`);
      return answer.errorType ? fail(res, answer.status, answer.errorType, (answer.body as { message: string }).message) : json(res, answer.status, {}, answer.body);
    }
    const messages = record.url.split('?')[0] === '/anthropic/v1/messages';
    const mantleCounted = this.service === 'bedrock-mantle' && record.url.split('?')[0] === '/anthropic/v1/messages/count_tokens';
    if (this.nextError) {
      const e = this.nextError;
      this.nextError = undefined;
      return messages || mantleCounted ? anthropicFail(res, e.status, e.type, e.message, e.headers) : fail(res, e.status, e.type, e.message, e.headers);
    }
    if (mantleCounted && req.method === 'POST') return answer(res, mantleCount(req.headers['anthropic-version'], body), anthropicFail);
    if (messages && req.method === 'POST') return this.messages(req, body, res, record);
    if (this.service !== 'bedrock') return fail(res, 404, 'UnknownOperationException', `no operation ${req.method} ${record.url}`);
    if (req.method === 'POST' && record.url.split('?')[0] === '/async-invoke') {
      // StartAsyncInvoke: the generation runs later; the answer names it.
      return json(res, 200, {}, { invocationArn: 'arn:aws:bedrock:us-east-1:123456789012:async-invoke/mock01' });
    }
    const asyncInvocation = /^\/async-invoke\/([^/]+)$/.exec(record.url.split('?')[0]);
    if (asyncInvocation && req.method === 'GET') {
      // GetAsyncInvoke: the invocation ARN, `/` and all, is one segment (`%2F`).
      const invocationArn = decodeURIComponent(asyncInvocation[1]);
      return json(res, 200, {}, { invocationArn, modelArn: `arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-reel-v1:0`, status: 'Completed', submitTime: '2026-01-01T00:00:00Z', endTime: '2026-01-01T00:05:00Z', outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://bucket/out' } } });
    }
    const guardrail = /^\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/.exec(record.url.split('?')[0]);
    if (guardrail && req.method === 'POST') return this.applyGuardrail(body, res);
    const counted = /^\/model\/([^/]+)\/count-tokens$/.exec(record.url.split('?')[0]);
    if (counted && req.method === 'POST') {
      // CountTokens: `{ input: { converse | invokeModel } }`, answered with the count alone; nothing is generated.
      record.modelId = decodeURIComponent(counted[1]);
      return answer(res, runtimeCount(record.modelId, body), fail);
    }
    const m = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/.exec(record.url.split('?')[0]);
    if (!m || req.method !== 'POST') return fail(res, 404, 'UnknownOperationException', `no operation ${req.method} ${record.url}`);
    record.modelId = decodeURIComponent(m[1]);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail(res, 400, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
    }
    switch (m[2]) {
      case 'invoke':
        return this.invoke(record.modelId, input, res);
      case 'converse': {
        const tool = toolToCall(input);
        return json(res, 200, {}, {
          output: { message: { role: 'assistant', content: tool ? [{ toolUse: { toolUseId: MOCK_TOOL_USE.toolUseId, name: tool, input: MOCK_TOOL_USE.input } }] : [{ text: this.text }] } },
          stopReason: tool ? 'tool_use' : 'end_turn',
          usage: { inputTokens: MOCK_USAGE.converse.input, outputTokens: MOCK_USAGE.converse.output, totalTokens: MOCK_USAGE.converse.input + MOCK_USAGE.converse.output, cacheReadInputTokens: MOCK_USAGE.converse.cacheRead, cacheWriteInputTokens: MOCK_USAGE.converse.cacheWrite },
          metrics: { latencyMs: 120 },
        });
      }
      case 'invoke-with-response-stream':
        return this.stream(res, this.invokeFrames(record.modelId));
      default:
        return this.stream(res, this.converseFrames(toolToCall(input)));
    }
  }

  /**
   * The Messages API: Anthropic's request with the model in the body; the version where
   * this endpoint wants it, else Anthropic's 400.
   */
  private messages(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, record: RecordedRequest): void | Promise<void> {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return anthropicFail(res, 400, 'invalid_request_error', 'The request body is not valid JSON.');
    }
    if (this.service === 'bedrock' && input.anthropic_version !== 'bedrock-2023-05-31') return anthropicFail(res, 400, 'invalid_request_error', 'anthropic_version: Field required');
    if (this.service === 'bedrock-mantle' && req.headers['anthropic-version'] === undefined) return anthropicFail(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (typeof input.model !== 'string') return anthropicFail(res, 400, 'invalid_request_error', 'model: Field required');
    record.modelId = input.model;
    if (input.stream === true) return writeSse(res, messageEvents(input.model, this.text, MOCK_USAGE.messagesStream), this.streamException, this.streamGate);
    const u = MOCK_USAGE.messages;
    json(res, 200, {}, {
      id: 'msg_bdrk_03',
      type: 'message',
      role: 'assistant',
      model: input.model,
      content: [{ type: 'text', text: this.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: u.input, output_tokens: u.output, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: u.cacheWrite },
      echo_max_tokens: input.max_tokens,
    });
  }

  /**
   * ApplyGuardrail: `{ source, content: [{ text: { text } }] }`. Text holding "forbidden"
   * is blocked (`GUARDRAIL_INTERVENED` with the blocked message as output); the usage
   * is guardrail policy units, not model tokens.
   */
  private applyGuardrail(body: Buffer, res: http.ServerResponse): void {
    let input: { source?: string; content?: Array<{ text?: { text?: string } }> };
    try {
      input = JSON.parse(body.toString('utf8')) as typeof input;
    } catch {
      return fail(res, 400, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
    }
    if (input.source !== 'INPUT' && input.source !== 'OUTPUT') return fail(res, 400, 'ValidationException', "1 validation error detected: Value at 'source' failed to satisfy constraint");
    const blocked = (input.content ?? []).some((c) => c.text?.text?.includes('forbidden'));
    const units = { topicPolicyUnits: 1, contentPolicyUnits: 1, wordPolicyUnits: 1, sensitiveInformationPolicyUnits: 0, sensitiveInformationPolicyFreeUnits: 0, contextualGroundingPolicyUnits: 0 };
    json(res, 200, {}, {
      usage: units,
      action: blocked ? 'GUARDRAIL_INTERVENED' : 'NONE',
      ...(blocked ? { actionReason: 'Guardrail blocked.' } : {}),
      outputs: blocked ? [{ text: 'Sorry, the model cannot answer this question.' }] : [],
      assessments: blocked ? [{ wordPolicy: { customWords: [{ match: 'forbidden', action: 'BLOCKED', detected: true }] } }] : [{}],
      guardrailCoverage: { textCharacters: { guarded: 20, total: 20 } },
    });
  }

  private invoke(modelId: string, input: Record<string, unknown>, res: http.ServerResponse): void {
    const u = MOCK_USAGE.invoke;
    const headers = { 'x-amzn-bedrock-input-token-count': String(u.input), 'x-amzn-bedrock-output-token-count': String(u.output), 'x-amzn-bedrock-invocation-latency': '95' };
    if (modelId.includes('titan')) {
      return json(res, 200, headers, { inputTextTokenCount: u.input, results: [{ tokenCount: u.output, outputText: this.text, completionReason: 'FINISH' }] });
    }
    json(res, 200, headers, {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-haiku-20240307',
      content: [{ type: 'text', text: this.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: u.input, output_tokens: u.output },
      echo_max_tokens: input.max_tokens,
    });
  }

  invokeFrames(modelId: string): Uint8Array[] {
    const u = MOCK_USAGE.invokeStream;
    const words = this.text.split(' ');
    const metrics = { inputTokenCount: u.input, outputTokenCount: u.output, invocationLatency: 300, firstByteLatency: 80, cacheReadInputTokenCount: u.cacheRead, cacheWriteInputTokenCount: u.cacheWrite };
    if (modelId.includes('titan')) {
      return [...words.map((w, i) => chunk({ outputText: `${i ? ' ' : ''}${w}`, index: 0, totalOutputTextTokenCount: i + 1, completionReason: null })), chunk({ outputText: '', index: 0, completionReason: 'FINISH', 'amazon-bedrock-invocationMetrics': metrics })];
    }
    return [
      chunk({ type: 'message_start', message: { id: 'msg_bdrk_02', type: 'message', role: 'assistant', model: 'claude-3-haiku-20240307', content: [], stop_reason: null, usage: { input_tokens: u.input, output_tokens: 1 } } }),
      chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ...words.map((w, i) => chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${i ? ' ' : ''}${w}` } })),
      chunk({ type: 'content_block_stop', index: 0 }),
      chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output } }),
      chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics }),
    ];
  }

  /** ConverseStream frames: the text word by word, or (`tool`) a tool call whose input arrives in two deltas. */
  converseFrames(tool?: string): Uint8Array[] {
    const u = MOCK_USAGE.converseStream;
    const words = this.text.split(' ');
    const input = JSON.stringify(MOCK_TOOL_USE.input);
    const content = tool
      ? [
          event('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: MOCK_TOOL_USE.toolUseId, name: tool } }, p: 'abcd' }),
          event('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: input.slice(0, 10) } }, p: 'abcd' }),
          event('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: input.slice(10) } }, p: 'abcd' }),
        ]
      : words.map((w, i) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: `${i ? ' ' : ''}${w}` }, p: 'abcd' }));
    return [
      event('messageStart', { role: 'assistant', p: 'abcd' }),
      ...content,
      event('contentBlockStop', { contentBlockIndex: 0, p: 'abcd' }),
      event('messageStop', { stopReason: tool ? 'tool_use' : 'end_turn', p: 'abcd' }),
      event('metadata', { usage: { inputTokens: u.input, outputTokens: u.output, totalTokens: u.input + u.output, cacheReadInputTokens: u.cacheRead, cacheWriteInputTokens: u.cacheWrite }, metrics: { latencyMs: 300 }, p: 'abcd' }),
    ];
  }

  /** Frames written one by one, some split mid-frame, so the reader's buffering is exercised. */
  private async stream(res: http.ServerResponse, frames: Uint8Array[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'mock-req-stream', 'x-amzn-bedrock-content-type': 'application/json' });
    const exception = this.streamException;
    const sent = exception ? frames.slice(0, 2) : frames;
    const gate = this.streamGate;
    for (const [i, f] of sent.entries()) {
      if (gate && i === gate.after) await gate.release;
      if (i % 2 === 1) {
        res.write(f.subarray(0, 7));
        await new Promise((r) => setTimeout(r, 2));
        res.write(f.subarray(7));
      } else res.write(f);
    }
    if (exception) {
      res.write(frame({ ':exception-type': exception.type, ':content-type': 'application/json', ':message-type': 'exception' }, { message: exception.message }));
    }
    res.end();
  }
}

function json(res: http.ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': 'mock-req-1', ...headers });
  res.end(text);
}

function answer(res: http.ServerResponse, a: CountAnswer, failWith: typeof fail): void {
  if ('body' in a) return json(res, a.status, {}, a.body);
  failWith(res, a.status, a.type, a.message);
}

/** Anthropic's error shape, as the Messages API answers what it refuses. */
function anthropicFail(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  json(res, status, headers, { type: 'error', error: { type, message } });
}

function fail(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  json(res, status, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/`, ...headers }, { message });
}
