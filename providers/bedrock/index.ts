/**
 * `bedrock`: the AWS Bedrock Runtime passed through under `/v1/bedrock`, so the AWS SDKs,
 * the AWS CLI and Claude Code (`CLAUDE_CODE_USE_BEDROCK=1`) work unmodified with their
 * endpoint pointing at the gateway; plus the seed's `POST /v1/bedrock/invoke`. The
 * client's signature or key is dropped and the request is signed anew with the gateway's
 * AWS credentials; bodies go upstream byte for byte (but for the betas an
 * `anthropic_betas` allowlist drops from InvokeModel, Converse and Messages bodies,
 * `betas.ts`); event streams flow back frame by frame with usage read beside them.
 * `/anthropic/v1/messages` is the Anthropic Messages API Bedrock serves, in Anthropic's
 * dialect (`messages.ts`), with its count_tokens (`count-tokens.ts`). Reads of the control
 * plane's model catalogue (`/inference-profiles`, `/foundation-models`, which Claude Code
 * lists at start) go to the `bedrock` host, signed the same way. A target of the unified
 * `/v1/chat/completions` too: OpenAI chat is served through Converse (see `chat.ts`),
 * signed the same way.
 */
import type { Dispatcher } from 'undici';
import {
  forwardUpstream,
  GatewayError,
  upstreamRequestHeaders,
  type Cancellation,
  type BodyStrings,
  type ChatRequest,
  type Logger,
  type ModelInfo,
  type PluginEnv,
  type Provider,
  type ProviderHealth,
  type ProviderPlugin,
  type ProviderResponse,
  type RequestContext,
} from '../../core/index.js';
import { BetaAllowlist, CONVERSE_BETAS, MODEL_BETAS, type BetaMember } from './betas.js';
import { bedrockChat, type ChatSettings } from './chat.js';
import { chatHeaders } from '../common/translated-chat.js';
import { countTokensCall } from './count-tokens.js';
import { countAnswer } from './count-tokens-answer.js';
import { forwardedHeaders } from '../common/upstream-config.js';
import { configSchema, droppedHeaders, parseEndpoint, type BedrockConfig, type Endpoint } from './config.js';
import { CredentialCache, detectSource, resolverFor, type CredentialSource } from './credentials.js';
import { bedrockDialect } from './dialect.js';
import { BEDROCK_PATH, CONVENIENCE, convenienceBody, inspectRequest } from './inspect.js';
import { baseModelId } from './model-id.js';
import { convenienceCall, eventStreamToSse } from './invoke.js';
import { HAS_VERSION, messagesCall, messagesDialect, type MessagesTarget } from './messages.js';
import { anthropicMeter } from '../anthropic/usage.js';
import { bedrockPath } from './paths.js';
import { RequestSigner } from './signer.js';
import { bedrockMeter } from './usage.js';

export type { BedrockConfig } from './config.js';

/**
 * Bedrock model ids the unified endpoint routes here by default: the providers' dotted
 * prefixes (`mistral.` — `mistral-*` is Mistral's own API), cross-region inference
 * profiles (`us.anthropic.…`) and ARNs. A provider entry's `model_patterns` replaces them.
 */
const MODEL_PATTERNS = [
  'anthropic.*',
  'amazon.*',
  'meta.*',
  'mistral.*',
  'us.anthropic.*',
  'eu.anthropic.*',
  'apac.anthropic.*',
  // Global and the newer geographies: Claude 4.5 and later are offered through `global.` first.
  'global.anthropic.*',
  'jp.anthropic.*',
  'au.anthropic.*',
  'ca.anthropic.*',
  'us-gov.anthropic.*',
  'us.amazon.*',
  'eu.amazon.*',
  'apac.amazon.*',
  'us.meta.*',
  'arn:aws:bedrock:*',
];

/** Where a request is sent and how it is signed. */
interface SignedTarget {
  readonly endpoint: Endpoint;
  readonly pool: Dispatcher;
  readonly signer: RequestSigner;
}

/** How long `health()` waits for the credential chain (container and instance endpoints). */
const HEALTH_TIMEOUT_MS = 5_000;

class BedrockProvider implements Provider {
  readonly dialect = bedrockDialect;
  readonly features = ['invoke', 'converse', 'messages', 'streaming', 'tools', 'vision', 'sigv4', 'chat_completions'] as const;
  readonly dialectFor = messagesDialect;
  readonly configured: boolean;
  readonly forwardedHeaders: readonly string[];
  private readonly modelList: readonly ModelInfo[];
  private readonly endpoint: Endpoint;
  private readonly region: string;
  private readonly source: CredentialSource;
  private readonly credentials: CredentialCache;
  private readonly signer: RequestSigner;
  private readonly runtime: MessagesTarget;
  private readonly messages: MessagesTarget;
  private readonly control: SignedTarget;
  private readonly drop: ReadonlySet<string>;
  private readonly pool: Dispatcher;
  private readonly log: Logger;
  private readonly chatSettings: ChatSettings;
  /** `anthropic_betas`: undefined when absent, and every beta is forwarded. */
  private readonly betas: BetaAllowlist | undefined;

  constructor(config: BedrockConfig, env: PluginEnv) {
    this.region = config.region;
    this.endpoint = parseEndpoint(config.base_url, config.region);
    this.source = detectSource(config);
    this.configured = this.source !== 'none';
    this.log = env.log;
    this.modelList = config.models.map((id) => ({ id }));
    this.drop = droppedHeaders(config.forward_headers);
    this.forwardedHeaders = forwardedHeaders(config.forward_headers, this.drop);
    // Nothing is resolved here: a gateway must start (and reload) without asking the network.
    this.credentials = new CredentialCache(resolverFor(config, this.source), config.refresh_before_expiry_ms, (err) =>
      env.log.warn('AWS credential refresh failed; the current credentials are used until they expire', { reason: (err as Error)?.message }),
    );
    this.signer = new RequestSigner({ host: this.endpoint.host, region: config.region, service: 'bedrock' }, this.credentials);
    this.pool = env.upstream(this.endpoint.origin, {
      connectTimeoutMs: config.connect_timeout_ms,
      headersTimeoutMs: config.headers_timeout_ms,
      bodyTimeoutMs: config.body_idle_timeout_ms,
    });
    this.runtime = { mode: 'runtime', endpoint: this.endpoint, pool: this.pool, signer: this.signer };
    this.messages = config.messages_endpoint === 'mantle' ? this.mantleTarget(config, env) : this.runtime;
    this.control = this.controlTarget(config, env);
    this.betas = config.anthropic_betas ? new BetaAllowlist(config.anthropic_betas, env) : undefined;
    this.chatSettings = {
      basePath: this.endpoint.basePath,
      forwardHeaders: config.forward_headers.map((h) => h.toLowerCase()),
      betas: this.betas,
      send: (method, path, headers, body, signal, stream) => this.send(method, path, headers, body, signal, stream),
    };
  }

  /** bedrock-mantle: its own host, pool and signing name, the same credentials. */
  private mantleTarget(config: BedrockConfig, env: PluginEnv): MessagesTarget {
    const endpoint = parseEndpoint(config.mantle_base_url, config.region);
    const pool = env.upstream(endpoint.origin, {
      connectTimeoutMs: config.connect_timeout_ms,
      headersTimeoutMs: config.headers_timeout_ms,
      bodyTimeoutMs: config.body_idle_timeout_ms,
    });
    return { mode: 'mantle', endpoint, pool, signer: new RequestSigner({ host: endpoint.host, region: config.region, service: 'bedrock-mantle' }, this.credentials) };
  }

  /** The control plane: its own host and pool, the same signing name (`bedrock`) and credentials. */
  private controlTarget(config: BedrockConfig, env: PluginEnv): SignedTarget {
    const endpoint = parseEndpoint(config.control_base_url, config.region);
    const pool = env.upstream(endpoint.origin, { connectTimeoutMs: config.connect_timeout_ms, headersTimeoutMs: config.headers_timeout_ms, bodyTimeoutMs: config.body_idle_timeout_ms });
    return { endpoint, pool, signer: new RequestSigner({ host: endpoint.host, region: config.region, service: 'bedrock' }, this.credentials) };
  }

  models(): readonly ModelInfo[] {
    return this.modelList;
  }

  /** Whether credentials can be had (the chain is asked, bounded); Bedrock itself is not called. */
  async health(): Promise<ProviderHealth> {
    if (!this.configured) return { status: 'unconfigured', detail: 'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or credentials: chain for an instance role)' };
    if (this.source === 'static' || this.source === 'env') return { status: 'ok', detail: `credentials from ${this.source}` };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
    });
    try {
      const creds = await Promise.race([this.credentials.get(), timeout]);
      return { status: 'ok', detail: `credentials from ${this.source}${creds.expiration ? `, expiring ${creds.expiration.toISOString()}` : ''}` };
    } catch (err) {
      return { status: 'down', detail: `the AWS credential chain (${this.source}) found no credentials: ${(err as Error)?.message ?? String(err)}` };
    } finally {
      clearTimeout(timer);
    }
  }

  describe(): Record<string, unknown> {
    const expiration = this.credentials.expiration;
    return {
      region: this.region,
      base_url: this.endpoint.origin + this.endpoint.basePath,
      control_base_url: this.control.endpoint.origin + this.control.endpoint.basePath,
      credential_source: this.source,
      ...(expiration ? { credentials_expire_at: expiration.toISOString() } : {}),
    };
  }

  inspect(ctx: RequestContext): void {
    inspectRequest(ctx, this.endpoint.basePath);
  }

  baseModel(model: string): string | undefined {
    return baseModelId(model);
  }

  async passthrough(ctx: RequestContext): Promise<ProviderResponse> {
    const convenience = ctx.get(CONVENIENCE);
    if (convenience) {
      const model = convenienceBody(ctx);
      const body = this.betas ? { body: this.betas.filterModelBody(ctx, model.body, model.strings), strings: model.strings } : model;
      const call = convenienceCall(convenience, body, this.endpoint.basePath);
      const res = await this.send('POST', call.path, call.headers, call.body, ctx.cancellation, convenience.stream);
      const ok = res.status >= 200 && res.status < 300;
      if (convenience.stream && ok && String(res.headers['content-type'] ?? '').startsWith('application/vnd.amazon.eventstream')) {
        return eventStreamToSse(res, ctx.cancellation);
      }
      res.meter = bedrockMeter(res.status, res.headers, false);
      return res;
    }
    const path = ctx.get(BEDROCK_PATH) ?? bedrockPath(ctx.subpath, ctx.query, this.endpoint.basePath);
    if (path.op === 'messages') {
      const call = messagesCall(this.messages, path.upstream, this.endpoint.basePath, this.betaHeaders(ctx), this.betaBody(ctx, MODEL_BETAS), ctx.get(HAS_VERSION) === true);
      const res = await this.send(ctx.method, call.path, call.headers, call.body, ctx.cancellation, ctx.stream, this.messages);
      res.meter = anthropicMeter(res.headers['content-type']);
      return res;
    }
    if (path.op === 'messages-count') return this.countTokens(ctx, path.upstream);
    if (path.op === 'control') {
      // Nothing is metered or charged. Inspect refused every other method; this is in case it did not run.
      if (ctx.method !== 'GET') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on the Bedrock control plane`);
      const upstream = this.control.endpoint.basePath + path.upstream.slice(this.endpoint.basePath.length);
      return this.send(ctx.method, upstream, upstreamRequestHeaders(ctx.headers, this.drop), ctx.body, ctx.cancellation, false, this.control);
    }
    // Not async-invoke: StartAsyncInvoke serves video models, not Claude (AWS, "Submit prompts … using the API").
    const betas = path.op === 'invoke' || path.op === 'invoke-with-response-stream' ? MODEL_BETAS : path.op === 'converse' || path.op === 'converse-stream' ? CONVERSE_BETAS : undefined;
    const headers = betas ? this.betaHeaders(ctx) : upstreamRequestHeaders(ctx.headers, this.drop);
    const res = await this.send(ctx.method, path.upstream, headers, betas ? this.betaBody(ctx, betas) : ctx.body, ctx.cancellation, ctx.stream);
    if (ctx.kind === 'generation') res.meter = bedrockMeter(res.status, res.headers, path.op === 'converse' || path.op === 'converse-stream');
    return res;
  }

  /**
   * Anthropic's count_tokens: bedrock-mantle serves it as it is; the Runtime only through
   * CountTokens, whose answer is made Anthropic's. Auxiliary either way: no meter.
   */
  private async countTokens(ctx: RequestContext, upstream: string): Promise<ProviderResponse> {
    if (this.messages.mode === 'mantle') {
      const call = messagesCall(this.messages, upstream, this.endpoint.basePath, this.betaHeaders(ctx), this.betaBody(ctx, MODEL_BETAS), true);
      return this.send(ctx.method, call.path, call.headers, call.body, ctx.cancellation, false, this.messages);
    }
    const call = countTokensCall(ctx, this.endpoint.basePath, this.betas);
    // The client's headers are Anthropic's (`anthropic-version`, `anthropic-beta`), which CountTokens does not
    // read: the betas went into the InvokeModel body as `anthropic_beta`.
    // An `anthropic-beta` an operator forwards is shortened like the body's list.
    const forwarded = chatHeaders(ctx.headers, this.chatSettings.forwardHeaders, { accept: 'application/json' });
    const headers = this.betas ? this.betas.headers(ctx, forwarded) : forwarded;
    return countAnswer(await this.send('POST', call.path, headers, call.body, ctx.cancellation, false), ctx.cancellation);
  }

  /** The client's headers as forwarded, the `anthropic-beta` header shortened to the allowlist when there is one. */
  private betaHeaders(ctx: RequestContext): Record<string, string | string[]> {
    const headers = upstreamRequestHeaders(ctx.headers, this.drop);
    return this.betas ? this.betas.headers(ctx, headers) : headers;
  }

  /** The client's body, its `anthropic_beta` (where `where` says) shortened to the model's allowlist when there is one (and it holds a beta to drop). */
  private betaBody(ctx: RequestContext, where: BetaMember): Buffer {
    return this.betas ? this.betas.body(ctx, where) : ctx.body;
  }

  /** The unified endpoint: OpenAI chat in, Converse upstream (signed as above), OpenAI chat out. */
  chat(ctx: RequestContext, request: ChatRequest, strings: BodyStrings): Promise<ProviderResponse> {
    return bedrockChat(ctx, request, this.chatSettings, strings);
  }

  /** The Converse translation only copies the prompt's text (`providers/translate/openai-converse`). */
  readonly chatTakesBytes = true;

  private async send(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer, signal: Cancellation, stream: boolean, target: SignedTarget = this.runtime): Promise<ProviderResponse> {
    let auth: Record<string, string>;
    try {
      auth = await target.signer.sign(method, path, headers, body);
    } catch (err) {
      this.log.warn('AWS credentials could not be resolved', { source: this.source, reason: (err as Error)?.message });
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The gateway could not obtain its AWS credentials; try again shortly');
    }
    return forwardUpstream(target.pool, { method, path, headers: { ...headers, ...auth }, body, signal, stream });
  }
}

const bedrock: ProviderPlugin<BedrockConfig> = {
  name: 'bedrock',
  apiVersion: 1,
  defaultPrefix: '/v1/bedrock',
  modelPatterns: MODEL_PATTERNS,
  configSchema,
  baseModel: baseModelId,
  create: (config, env) => new BedrockProvider(config, env),
};
export default bedrock;
