/**
 * `openai`: the OpenAI API passed through under `/v1/openai`, and a target of the unified
 * `/v1/chat/completions`. Also every OpenAI-compatible service (Mistral, vLLM, …) by
 * configuration: another entry of this type with its own `base_url`, key and patterns.
 * The client's credentials and account headers are replaced by the gateway's; bodies go
 * upstream byte for byte except for the one documented rewrite (`rewrite.ts`); responses,
 * errors included, come back as they arrive with usage read beside them. Chat completions,
 * completions and the Responses API are generations (limits, budgets, accounting), and so
 * are Mistral's FIM and agents completions and its Conversations API (a start, an append,
 * a restart) on whichever entry is Mistral; the rest of the API is auxiliary. A batch create (OpenAI's, Mistral's jobs) is marked as one (`ctx.batch`,
 * `batches.ts`), so a policy filter judges the requests it holds, or refuses those in a file.
 */
import type { Dispatcher } from 'undici';
import {
  chatOutputCap,
  chatOutputChoices,
  createKey,
  forwardUpstream,
  shapeText,
  upstreamRequestHeaders,
  type BodyStrings,
  type ChatRequest,
  type JsonReads,
  type ModelInfo,
  type PluginEnv,
  type Provider,
  type ProviderHealth,
  type ProviderPlugin,
  type ProviderResponse,
  type RequestContext,
  type RequestUpload,
  type UsageMeter,
} from '../../core/index.js';
import { translatedBody } from '../common/translated-chat.js';
import { batchCreate } from './batches.js';
import { droppedHeaders, forwardedHeaders, parseBaseUrl } from '../common/upstream-config.js';
import { openaiDialect } from './dialect.js';
import { RESPONSES_STREAM } from '../translate/openai-dialect.js';
import { ACCOUNT_HEADERS, configSchema, type OpenAIConfig } from './config.js';
import { isUploadPath, upstreamPath } from './paths.js';
import { conversationsMeter } from './conversations-usage.js';
import { ConversationTargets } from './conversation-targets.js';
import { responsesMeter } from './responses-usage.js';
import { needsUsageRewrite, withIncludeUsage } from './rewrite.js';
import { UsageChunkFilter } from './usage-filter.js';
import { openaiMeter } from './usage.js';

export type { OpenAIConfig } from './config.js';

/** Picks the usage meter for an answer by its content type. */
type MeterFor = (contentType: string) => UsageMeter | undefined;

/** What `inspect` decided, for `passthrough`. */
interface Plan {
  path: string;
  addUsage: boolean;
  meter: MeterFor;
}
const PLAN = createKey<Plan>('openai.plan');

/** What inspect and the usage rewrite look at in a chat or completions body, which may be a long conversation. */
const GENERATION_READS: JsonReads = {
  members: { model: { text: true }, stream: {}, stream_options: { members: { include_usage: {} } }, max_tokens: {}, max_completion_tokens: {}, n: {}, best_of: {} },
};

/** The same for the Responses API: its cap has another name, and it always reports usage. */
const RESPONSES_READS: JsonReads = {
  members: { model: { text: true }, stream: {}, max_output_tokens: {} },
};

interface GenerationBody {
  model?: unknown;
  agent_id?: unknown;
  completion_args?: unknown;
  stream?: unknown;
  stream_options?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  max_output_tokens?: unknown;
  n?: unknown;
  best_of?: unknown;
  [field: string]: unknown;
}

/** How one token-generating API is read: its request fields, its output cap, its usage. */
interface GenerationApi {
  readonly reads: JsonReads;
  cap(body: GenerationBody): unknown;
  /** How many completions the body asks for, each up to the cap. */
  choices(body: GenerationBody): unknown;
  /** A stream reports usage only when asked (`stream_options.include_usage`, see `rewrite.ts`). */
  readonly usageOnRequest: boolean;
  readonly meter: MeterFor;
  /** Its stream is the Responses API's typed events: a failure mid-stream is their `error` event. */
  readonly responsesEvents?: true;
  /** It begins (`start`) or continues (`turn`) a conversation the upstream keeps: see `conversation-targets.ts`. */
  readonly conversation?: 'start' | 'turn';
}

const CHAT_API: GenerationApi = {
  reads: GENERATION_READS,
  cap: chatOutputCap,
  choices: chatOutputChoices,
  usageOnRequest: true,
  meter: openaiMeter,
};

/** `response.completed` always carries the usage: nothing to ask for, nothing to hide. */
const RESPONSES_API: GenerationApi = {
  reads: RESPONSES_READS,
  cap: (body) => body.max_output_tokens,
  choices: () => 1,
  usageOnRequest: false,
  meter: responsesMeter,
  responsesEvents: true,
};

/**
 * Mistral's fill-in-the-middle (`/v1/fim/completions`: `model`, `prompt`, `suffix`,
 * `max_tokens`; what Codestral autocomplete in Continue calls) and agents completions:
 * answered as chat completions, a stream's usage on its last chunk unasked. Nothing is
 * added to their bodies: `stream_options` is OpenAI's, not part of these APIs.
 */
const MISTRAL_API: GenerationApi = { ...CHAT_API, usageOnRequest: false };

/** Agents completions name an `agent_id` where a chat names its model. */
const AGENTS_API: GenerationApi = { ...MISTRAL_API, reads: { members: { ...GENERATION_READS.members, agent_id: { text: true } } } };

/**
 * Mistral's Conversations API: a start (`model` or `agent_id`, `inputs`, `instructions`,
 * `completion_args: { max_tokens, … }`, `stream`), an append or a restart of one (the same
 * without a model: the conversation keeps the one it started with). One answer each, typed
 * events when streamed, usage reported unasked (`conversations-usage.ts`).
 */
const CONVERSATIONS_API: GenerationApi = {
  reads: { members: { model: { text: true }, agent_id: { text: true }, stream: {}, completion_args: { members: { max_tokens: {} } } } },
  cap: (body) => (body.completion_args && typeof body.completion_args === 'object' ? (body.completion_args as { max_tokens?: unknown }).max_tokens : undefined),
  choices: () => 1,
  usageOnRequest: false,
  meter: conversationsMeter,
  conversation: 'start',
};

/**
 * An append or a restart: a `model` or `agent_id` in its body is not taken (inspect), for
 * the upstream runs the conversation's own whatever the body says; a model policy asks
 * `ctx.conversation`.
 */
const CONVERSATION_TURN_API: GenerationApi = { ...CONVERSATIONS_API, conversation: 'turn' };

/**
 * Upstream paths (after the base path) whose POST generates tokens: the one selection table.
 * Every OpenAI-type entry shares it; a path its service lacks is the upstream's 404.
 */
const GENERATION = new Map<string, GenerationApi>([
  ['/v1/chat/completions', CHAT_API],
  ['/v1/completions', CHAT_API],
  ['/v1/responses', RESPONSES_API],
  ['/v1/fim/completions', MISTRAL_API],
  ['/v1/agents/completions', AGENTS_API],
  ['/v1/conversations', CONVERSATIONS_API],
]);

/** An append to a conversation (`/v1/conversations/{id}`) or a restart of it (`…/{id}/restart`). */
const CONVERSATION_TURN = /^\/v1\/conversations\/([^/]+)(?:\/restart)?$/;

/** How a POST to `bare` (the upstream path after the base path) generates, if it does. */
function generationApi(bare: string): GenerationApi | undefined {
  return GENERATION.get(bare) ?? (CONVERSATION_TURN.test(bare) ? CONVERSATION_TURN_API : undefined);
}

/** The body rebuilt with `stream_options.include_usage` set, from the shape where it can be. */
function rebuiltWithUsage(ctx: RequestContext): Buffer {
  const { value, strings } = ctx.rewritableBody();
  return withIncludeUsage(ctx.body, value as GenerationBody, strings.serialize);
}

class OpenAIProvider implements Provider {
  readonly dialect = openaiDialect;
  readonly features = ['chat_completions', 'streaming', 'tools', 'vision'] as const;
  readonly configured: boolean;
  readonly forwardedHeaders: readonly string[];
  private readonly modelList: readonly ModelInfo[];
  private readonly origin: string;
  private readonly basePath: string;
  private readonly pool: Dispatcher;
  private readonly drop: ReadonlySet<string>;
  private readonly auth: Record<string, string>;
  private readonly conversations: ConversationTargets;

  constructor(private readonly config: OpenAIConfig, env: PluginEnv) {
    const { origin, basePath } = parseBaseUrl(config.base_url);
    this.origin = origin;
    this.basePath = basePath;
    // Keys from secret files often end in a newline, which no HTTP header may carry.
    const apiKey = config.api_key.trim();
    this.configured = apiKey !== '';
    this.auth = { authorization: `Bearer ${apiKey}` };
    if (config.organization) this.auth['openai-organization'] = config.organization;
    if (config.project) this.auth['openai-project'] = config.project;
    this.drop = droppedHeaders(config.forward_headers, ACCOUNT_HEADERS);
    this.forwardedHeaders = forwardedHeaders(config.forward_headers, this.drop);
    this.modelList = config.models.map((id) => ({ id }));
    this.pool = env.upstream(origin, {
      connectTimeoutMs: config.connect_timeout_ms,
      headersTimeoutMs: config.headers_timeout_ms,
      bodyTimeoutMs: config.body_idle_timeout_ms,
    });
    this.conversations = new ConversationTargets(this.pool, basePath, this.auth);
  }

  models(): readonly ModelInfo[] {
    return this.modelList;
  }

  /** Configuration only: a health probe must not spend the key or depend on the internet. */
  async health(): Promise<ProviderHealth> {
    return this.configured ? { status: 'ok' } : { status: 'unconfigured', detail: 'api_key is empty' };
  }

  describe(): Record<string, unknown> {
    return { base_url: this.origin + this.basePath, stream_include_usage: this.config.stream_include_usage };
  }

  inspect(ctx: RequestContext): void {
    const path = upstreamPath(ctx.subpath, ctx.query, this.basePath);
    const plan: Plan = { path, addUsage: false, meter: openaiMeter };
    ctx.set(PLAN, plan);
    ctx.kind = 'auxiliary';
    if (ctx.method !== 'POST') return;
    const q = path.indexOf('?');
    const bare = (q < 0 ? path : path.slice(0, q)).slice(this.basePath.length).replace(/\/$/, '');
    const api = generationApi(bare);
    if (!api) {
      // Still auxiliary: its tokens are known only when the batch ends.
      ctx.batch = batchCreate(ctx, bare);
      if (ctx.batch?.model) ctx.model = ctx.batch.model.name;
      else if (ctx.batch?.agent) ctx.agent = ctx.batch.agent.id;
      return;
    }
    ctx.kind = 'generation';
    plan.meter = api.meter;
    if (api.responsesEvents) ctx.set(RESPONSES_STREAM, true);
    if (api.conversation === 'turn') {
      ctx.conversation = this.conversations;
      this.conversations.continues(ctx, CONVERSATION_TURN.exec(bare)![1]);
    }
    // Parsed whatever the content-type says: a mislabelled body must not dodge model or token policy.
    // Just those fields: the prompt's text is neither decoded nor built for a model name and a few flags.
    const body = ctx.jsonPick(api.reads) as GenerationBody | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    if (api.conversation !== 'turn') {
      if (typeof body.model === 'string') ctx.model = shapeText(body.model);
      // Both named: both are judged, as which one the upstream runs is its to say.
      if (typeof body.agent_id === 'string') ctx.agent = shapeText(body.agent_id);
      // A start naming neither is judged as any request naming no model.
      if (api.conversation === 'start' && (ctx.model !== undefined || ctx.agent !== undefined)) ctx.conversation = this.conversations;
    }
    ctx.stream = body.stream === true;
    const cap = api.cap(body);
    if (typeof cap === 'number') ctx.maxOutputTokens = cap; // kept only if a token count (Context)
    const choices = api.choices(body);
    if (typeof choices === 'number') ctx.outputChoices = choices; // `n: 8` generates up to 8 × the cap
    plan.addUsage = api.usageOnRequest && this.config.stream_include_usage && needsUsageRewrite(body);
  }

  isUpload(method: string, subpath: string): boolean {
    return method === 'POST' && isUploadPath(subpath);
  }

  async passthrough(ctx: RequestContext): Promise<ProviderResponse> {
    const plan = ctx.get(PLAN) ?? { path: upstreamPath(ctx.subpath, ctx.query, this.basePath), addUsage: false, meter: openaiMeter };
    if (!plan.addUsage) return this.forward(ctx, ctx.method, plan.path, ctx.upload ?? ctx.body, false, plan.meter);
    // Without `stream_options` the field is spliced into the client's bytes (inspect's
    // fields tell); with it the body is rebuilt, from the shape where it can be.
    const fields = ctx.jsonPick(GENERATION_READS) as GenerationBody;
    const body = fields.stream_options === undefined ? withIncludeUsage(ctx.body, fields) : rebuiltWithUsage(ctx);
    return this.forward(ctx, ctx.method, plan.path, body, true, plan.meter);
  }

  /** The unified endpoint: the request is already OpenAI's, so it goes as it is. */
  chat(ctx: RequestContext, request: ChatRequest, strings: BodyStrings): Promise<ProviderResponse> {
    const addUsage = this.config.stream_include_usage && needsUsageRewrite(request);
    // The client's bytes when the model was not renamed by an alias.
    const parsed = strings.form === 'bytes' ? ctx.jsonShape() : ctx.json();
    const raw = request === parsed ? ctx.body : strings.serialize(request);
    const body = addUsage ? withIncludeUsage(raw, request, strings.serialize) : raw;
    return this.forward(ctx, 'POST', `${this.basePath}/v1/chat/completions`, body, addUsage, openaiMeter, true);
  }

  /** `chat()` sends the client's bytes, or re-serialises the request without reading its text. */
  readonly chatTakesBytes = true;

  /**
   * Send, and meter a generation's answer. A stream goes through the usage-chunk filter when
   * the gateway added `include_usage`, and on the unified endpoint (`unified`) always, so a
   * stream cut before `[DONE]` ends with an error chunk there.
   */
  private async forward(ctx: RequestContext, method: string, path: string, body: Buffer | RequestUpload, addedUsage: boolean, meter: MeterFor, unified = false): Promise<ProviderResponse> {
    const headers = { ...upstreamRequestHeaders(ctx.headers, this.drop), ...this.auth };
    const res = await forwardUpstream(this.pool, { method, path, headers, body, signal: ctx.cancellation, stream: ctx.stream });
    if (ctx.kind !== 'generation') return res;
    const ct = String(res.headers['content-type'] ?? '');
    if ((addedUsage || unified) && res.status === 200 && ct.startsWith('text/event-stream') && res.body && !(res.body instanceof Uint8Array)) {
      const filter = new UsageChunkFilter({ dropUsage: addedUsage, endCutStream: unified });
      const upstream = res.body as AsyncIterable<Uint8Array> & { destroy?: () => void };
      res.body = translatedBody(upstream, filter);
      res.meter = filter.meter();
      return res;
    }
    res.meter = ctx.conversation ? this.conversations.meterFor(ctx, res.status, meter(ct)) : meter(ct);
    return res;
  }
}

const openai: ProviderPlugin<OpenAIConfig> = {
  name: 'openai',
  apiVersion: 1,
  defaultPrefix: '/v1/openai',
  modelPatterns: ['gpt-*', 'chatgpt-*', 'o1*', 'o3*', 'o4*'],
  configSchema,
  create: (config, env) => new OpenAIProvider(config, env),
};
export default openai;
