/**
 * `gemini`: the Gemini API (generativelanguage) passed through under `/v1/gemini`, so
 * `@google/genai` works unmodified with `httpOptions.baseUrl` at the gateway, and a
 * target of the unified `/v1/chat/completions` for `gemini-*` models. The client's key
 * (`x-goog-api-key` or `?key=`) is removed and the gateway's sent in `x-goog-api-key`;
 * bodies go upstream byte for byte; answers stream back whole event by whole event, with
 * usage read beside them and an error event instead of a silent cut.
 */
import type { Dispatcher } from 'undici';
import {
  forwardUpstream,
  GeneratedBody,
  upstreamRequestHeaders,
  type BodyStrings,
  type ChatRequest,
  type ModelInfo,
  type PluginEnv,
  type Provider,
  type ProviderHealth,
  type ProviderPlugin,
  type ProviderResponse,
  type RequestContext,
} from '../../core/index.js';
import { droppedHeaders, forwardedHeaders, parseBaseUrl } from '../common/upstream-config.js';
import { geminiChat, type ChatSettings } from './chat.js';
import { configSchema, type GeminiConfig } from './config.js';
import { geminiDialect } from './dialect.js';
import { inspectRequest, UPSTREAM_PATH } from './inspect.js';
import { isUploadPath, upstreamPath } from './paths.js';
import { GeminiStreamGuard } from './stream-guard.js';
import { geminiMeter } from './usage.js';
import { uploadUrlForClient } from './upload-url.js';

export type { GeminiConfig } from './config.js';

class GeminiProvider implements Provider {
  readonly dialect = geminiDialect;
  readonly features = ['generate_content', 'streaming', 'tools', 'vision', 'count_tokens', 'chat_completions'] as const;
  readonly configured: boolean;
  readonly forwardedHeaders: readonly string[];
  private readonly modelList: readonly ModelInfo[];
  private readonly origin: string;
  private readonly basePath: string;
  private readonly apiKey: string;
  private readonly drop: ReadonlySet<string>;
  private readonly pool: Dispatcher;
  private readonly chatSettings: ChatSettings;

  constructor(config: GeminiConfig, env: PluginEnv) {
    const { origin, basePath } = parseBaseUrl(config.base_url);
    this.origin = origin;
    this.basePath = basePath;
    // Keys from secret files often end in a newline, which no HTTP header may carry.
    this.apiKey = config.api_key.trim();
    this.configured = this.apiKey !== '';
    this.modelList = config.models.map((id) => ({ id }));
    this.drop = droppedHeaders(config.forward_headers);
    this.forwardedHeaders = forwardedHeaders(config.forward_headers, this.drop);
    this.pool = env.upstream(origin, {
      connectTimeoutMs: config.connect_timeout_ms,
      headersTimeoutMs: config.headers_timeout_ms,
      bodyTimeoutMs: config.body_idle_timeout_ms,
    });
    this.chatSettings = { pool: this.pool, root: `${basePath}/${config.api_version}`, apiKey: this.apiKey, forwardHeaders: config.forward_headers.map((h) => h.toLowerCase()) };
  }

  models(): readonly ModelInfo[] {
    return this.modelList;
  }

  /** Configuration only: a health probe must not spend the key or depend on the internet. */
  async health(): Promise<ProviderHealth> {
    return this.configured ? { status: 'ok' } : { status: 'unconfigured', detail: 'api_key is empty (set GOOGLE_API_KEY)' };
  }

  describe(): Record<string, unknown> {
    return { base_url: this.origin + this.basePath };
  }

  inspect(ctx: RequestContext): void {
    inspectRequest(ctx, this.basePath);
  }

  isUpload(method: string, subpath: string): boolean {
    return method === 'POST' && isUploadPath(subpath);
  }

  async passthrough(ctx: RequestContext): Promise<ProviderResponse> {
    const path = ctx.get(UPSTREAM_PATH) ?? upstreamPath(ctx.subpath, ctx.query, this.basePath);
    const headers = upstreamRequestHeaders(ctx.headers, this.drop);
    headers['x-goog-api-key'] = this.apiKey;
    const res = await forwardUpstream(this.pool, { method: ctx.method, path, headers, body: ctx.upload ?? ctx.body, signal: ctx.cancellation, stream: ctx.stream });
    // A resumable upload's start: the URL its bytes go to must be the gateway's.
    const uploadUrl = res.headers['x-goog-upload-url'];
    if (typeof uploadUrl === 'string') res.headers['x-goog-upload-url'] = uploadUrlForClient(uploadUrl, ctx, this.basePath);
    // Only generations carry usage; other bodies (token counts, model lists) pass unread.
    if (ctx.kind !== 'generation') return res;
    const ct = String(res.headers['content-type'] ?? '');
    if (res.status === 200 && ct.startsWith('text/event-stream') && res.body && !(res.body instanceof Uint8Array)) {
      const guard = new GeminiStreamGuard();
      const upstream = res.body as AsyncIterable<Uint8Array> & { destroy?: () => void };
      res.body = new GeneratedBody(guard.pipe(upstream), () => upstream.destroy?.());
      res.meter = guard.usageMeter();
      return res;
    }
    res.meter = geminiMeter(ct);
    return res;
  }

  /** The unified endpoint: OpenAI chat in, Gemini generateContent upstream, OpenAI chat out. */
  chat(ctx: RequestContext, request: ChatRequest, strings: BodyStrings): Promise<ProviderResponse> {
    return geminiChat(ctx, request, this.chatSettings, strings);
  }

  /** The translation only copies the prompt's text (`providers/translate/openai-gemini`). */
  readonly chatTakesBytes = true;
}

const gemini: ProviderPlugin<GeminiConfig> = {
  name: 'gemini',
  apiVersion: 1,
  defaultPrefix: '/v1/gemini',
  modelPatterns: ['gemini-*'],
  configSchema,
  create: (config, env) => new GeminiProvider(config, env),
};
export default gemini;
