/**
 * `anthropic`: the Anthropic API passed through under `/v1/claude`, so Claude Code, the
 * Anthropic SDKs and Continue work unmodified with `ANTHROPIC_BASE_URL` pointing at the
 * gateway. The client's credentials are replaced by the gateway's; bodies go upstream
 * byte for byte; responses stream back as they arrive, with usage read beside them.
 */
import type { Dispatcher } from 'undici';
import {
  forwardUpstream,
  type ModelInfo,
  type PluginEnv,
  type Provider,
  type ProviderHealth,
  type ProviderPlugin,
  type ProviderResponse,
  type RequestContext,
  type ChatRequest,
  type BodyStrings,
} from '../../core/index.js';
import { anthropicChat, type ChatSettings } from './chat.js';
import { forwardedHeaders } from '../common/upstream-config.js';
import { configSchema, droppedHeaders, parseBaseUrl, type AnthropicConfig } from './config.js';
import { anthropicDialect } from './dialect.js';
import { anthropicRequestHeaders, type HeaderPolicy } from './headers.js';
import { AnthropicPaths, inspectRequest, UPSTREAM_PATH } from './inspect.js';
import { upstreamPath } from './paths.js';
import { anthropicMeter } from './usage.js';
import { withRelativeResultsUrls } from './batch-urls.js';

export type { AnthropicConfig } from './config.js';

class AnthropicProvider implements Provider {
  readonly dialect = anthropicDialect;
  readonly features = ['messages', 'streaming', 'tools', 'vision', 'count_tokens', 'chat_completions'] as const;
  readonly configured: boolean;
  readonly forwardedHeaders: readonly string[];
  private readonly modelList: readonly ModelInfo[];
  private readonly origin: string;
  private readonly basePath: string;
  private readonly paths: AnthropicPaths;
  private readonly headerPolicy: HeaderPolicy;
  private readonly pool: Dispatcher;
  private readonly chatSettings: ChatSettings;

  constructor(config: AnthropicConfig, env: PluginEnv) {
    const { origin, basePath } = parseBaseUrl(config.base_url);
    this.origin = origin;
    this.basePath = basePath;
    this.paths = new AnthropicPaths(basePath);
    // Keys from secret files often end in a newline, which no HTTP header may carry.
    const apiKey = config.api_key.trim();
    this.configured = apiKey !== '';
    this.modelList = config.models.map((id) => ({ id }));
    this.headerPolicy = { apiKey, defaultVersion: config.anthropic_version, drop: droppedHeaders(config.forward_headers) };
    this.forwardedHeaders = forwardedHeaders(config.forward_headers, this.headerPolicy.drop);
    this.pool = env.upstream(origin, {
      connectTimeoutMs: config.connect_timeout_ms,
      headersTimeoutMs: config.headers_timeout_ms,
      bodyTimeoutMs: config.body_idle_timeout_ms,
    });
    this.chatSettings = {
      pool: this.pool,
      path: `${basePath}/v1/messages`,
      apiKey,
      anthropicVersion: config.anthropic_version,
      defaultMaxTokens: config.default_max_tokens,
      forwardHeaders: config.forward_headers.map((h) => h.toLowerCase()),
    };
  }

  models(): readonly ModelInfo[] {
    return this.modelList;
  }

  /** Configuration only: a health probe must not spend the key or depend on the internet. */
  async health(): Promise<ProviderHealth> {
    return this.configured ? { status: 'ok' } : { status: 'unconfigured', detail: 'api_key is empty (set ANTHROPIC_API_KEY)' };
  }

  describe(): Record<string, unknown> {
    return { base_url: this.origin + this.basePath };
  }

  inspect(ctx: RequestContext): void {
    inspectRequest(ctx, this.paths);
  }

  /** The Files API's upload; a path it refuses is refused again, as it should be, by `inspect`. */
  isUpload(method: string, subpath: string): boolean {
    if (method !== 'POST') return false;
    try {
      return this.paths.map(subpath, '').upload;
    } catch {
      return false;
    }
  }

  async passthrough(ctx: RequestContext): Promise<ProviderResponse> {
    const path = ctx.get(UPSTREAM_PATH) ?? upstreamPath(ctx.subpath, ctx.query, this.basePath);
    let res = await forwardUpstream(this.pool, {
      method: ctx.method,
      path,
      headers: anthropicRequestHeaders(ctx.headers, this.headerPolicy),
      body: ctx.upload ?? ctx.body,
      signal: ctx.cancellation,
      stream: ctx.stream,
    });
    // Only generations carry usage; other bodies (file downloads, model lists) pass unread.
    if (ctx.kind === 'generation') res.meter = anthropicMeter(res.headers['content-type']);
    else if ((ctx.method === 'GET' || ctx.method === 'POST') && this.paths.map(ctx.subpath, ctx.query).batchObjects) res = await withRelativeResultsUrls(res, ctx.cancellation);
    return res;
  }

  /** The unified endpoint: OpenAI chat in, Anthropic Messages upstream, OpenAI chat out. */
  chat(ctx: RequestContext, request: ChatRequest, strings: BodyStrings): Promise<ProviderResponse> {
    return anthropicChat(ctx, request, this.chatSettings, strings);
  }

  /** The translation only copies the prompt's text (`providers/translate/openai-anthropic`). */
  readonly chatTakesBytes = true;
}

const anthropic: ProviderPlugin<AnthropicConfig> = {
  name: 'anthropic',
  apiVersion: 1,
  defaultPrefix: '/v1/claude',
  modelPatterns: ['claude-*'],
  configSchema,
  create: (config, env) => new AnthropicProvider(config, env),
};
export default anthropic;
