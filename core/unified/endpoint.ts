/**
 * The unified, OpenAI-compatible endpoint: `POST …/chat/completions` served by whichever
 * provider the model table picks, and `GET …/models` listing what it can pick. Core reads
 * only the few request fields every chat request has (`model`, `stream`, the output cap,
 * how many completions it asks for); what a provider does with the rest is its own
 * `chat()`'s business.
 */
import type { Context } from '../context.js';
import { GatewayError, toGatewayError } from '../errors.js';
import { budgetedStrings, shapeText, TEXT_STRINGS } from '../json-body.js';
import { DENSITY_CHECK_MIN } from '../json-density.js';
import { chatOutputCap, chatOutputChoices } from '../token-count.js';
import { createKey, type ChatRequest, type ProviderResponse } from '../types.js';
import type { RouteUpstream } from '../resilience/executor.js';
import type { ModelTable, Selection } from './selection.js';

const SELECTION = createKey<Selection>('unified.selection');
/** A refusal found before the chain, answered after it so identity and limits still run first. */
const REFUSAL = createKey<GatewayError>('unified.refusal');
const MODELS_PATH = /\/models(?:\/([^/]+))?$/;

interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface UnifiedOptions {
  table: ModelTable;
  /** Chat-capable, configured providers, in config order, for the model list. */
  listed: ReadonlyArray<{ name: string; models: ReadonlyArray<{ id: string; aliases?: readonly string[] }> }>;
  /** Aliases from the config, by name, with the provider they go to. */
  aliases: ReadonlyArray<{ name: string; provider: string }>;
  /** Unix seconds shown as every model's `created` (the config's load time). */
  created: number;
  /** A route pinned to one provider: `X-Provider` is then ignored. */
  pin?: string;
}

export class UnifiedEndpoint {
  private readonly list: ModelEntry[];

  constructor(private readonly opts: UnifiedOptions) {
    const seen = new Set<string>();
    this.list = [];
    const add = (id: string, owner: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      this.list.push({ id, object: 'model', created: opts.created, owned_by: owner });
    };
    for (const p of opts.listed) for (const m of p.models) [m.id, ...(m.aliases ?? [])].forEach((id) => add(id, p.name));
    const listedNames = new Set(opts.listed.map((p) => p.name));
    for (const a of opts.aliases) if (listedNames.has(a.provider)) add(a.name, a.provider);
  }

  /** Before the filter chain: classify the request and pick its provider. Never throws. */
  prepare(ctx: Context): void {
    if (MODELS_PATH.test(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.kind = 'auxiliary';
      return;
    }
    if (ctx.method !== 'POST') {
      // Not a generation: the validator and the limits' token estimate leave it to the 405.
      ctx.kind = 'auxiliary';
      ctx.set(REFUSAL, new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `Use POST for chat completions, not ${ctx.method}`));
      return;
    }
    ctx.kind = 'generation';
    try {
      // The shape: picking a provider needs the model and two flags, not the prompt's text.
      const body = ctx.jsonShape() as Partial<ChatRequest> | null;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GatewayError('GW_ERR_REQUEST_INVALID', 'The request body must be a JSON object');
      if (typeof body.model !== 'string' || body.model === '') throw new GatewayError('GW_ERR_REQUEST_INVALID', '`model` is required', { param: 'model' });
      const model = shapeText(body.model);
      ctx.model = model;
      ctx.stream = body.stream === true;
      const cap = chatOutputCap(body);
      if (typeof cap === 'number') ctx.maxOutputTokens = cap; // kept only if a token count (Context)
      // An OpenAI-type target generates `n` completions; a translated one refuses n > 1 after the chain.
      const choices = chatOutputChoices(body);
      if (typeof choices === 'number') ctx.outputChoices = choices;
      const header = ctx.headers['x-provider'];
      const forced = this.opts.pin ?? (typeof header === 'string' && header !== '' ? header : undefined);
      const selection = this.opts.table.select(model, forced);
      ctx.provider = selection.slot.name;
      // An alias's own model: what is sent, priced, budgeted, allow-listed and audited.
      ctx.model = selection.model;
      ctx.baseModel = selection.slot.provider.baseModel?.(selection.model);
      ctx.balanced = selection.targets.balanced;
      ctx.set(SELECTION, selection);
    } catch (err) {
      ctx.set(REFUSAL, toGatewayError(err));
    }
  }

  /** After the filter chain: why the request cannot be served, if it cannot. */
  refusal(ctx: Context): GatewayError | undefined {
    const refused = ctx.get(REFUSAL);
    if (refused) return refused;
    const selection = ctx.get(SELECTION);
    if (!selection) {
      const id = this.modelId(ctx);
      if (id === undefined || this.list.some((m) => m.id === id)) return undefined;
      return new GatewayError('GW_ERR_MODEL_NOT_FOUND', `The model \`${id}\` does not exist on this gateway; GET /v1/models lists the models it serves`, { param: 'model' });
    }
    const { slot } = selection;
    if (!slot.provider.chat) {
      return new GatewayError('GW_ERR_REQUEST_INVALID', `Provider "${slot.name}" (type ${slot.type}) does not serve /v1/chat/completions; use its own API under ${slot.prefix}`, { param: 'model' });
    }
    // With fallback targets, one configured target is enough.
    if (!selection.targets.all.some((t) => t.slot.provider.configured)) {
      return new GatewayError('GW_ERR_PROVIDER_UNCONFIGURED', `Provider "${slot.name}" is not configured on this gateway (missing credentials)`, { headers: { 'x-should-retry': 'false' } });
    }
    return undefined;
  }

  /** Serve a request {@link refusal} let through, on its selection's targets in turn. */
  serve(ctx: Context, upstream: RouteUpstream): Promise<ProviderResponse> {
    const selection = ctx.get(SELECTION);
    if (!selection) return Promise.resolve(this.models(ctx));
    return upstream.call(ctx, selection.targets, (target, attempt) => {
      const provider = target.slot.provider;
      // A provider that takes bytes gets the shape when it holds them exactly; any other, the text.
      const read = provider.chatTakesBytes ? ctx.rewritableBody() : { value: ctx.json(), strings: TEXT_STRINGS };
      const value = read.value;
      // A large body's strings parsed as JSON (tool calls' arguments) share one container budget.
      const strings = ctx.body.length < DENSITY_CHECK_MIN ? read.strings : budgetedStrings(read.strings, ctx.body.length);
      const body = value as ChatRequest;
      // An alias renames the model; otherwise the parsed body goes as it is.
      const sent = target.model ?? selection.model;
      // Priced, budgeted and audited as what this attempt sends: after a fallback, not the
      // previous target's model.
      attempt.model = sent;
      attempt.baseModel = provider.baseModel?.(sent);
      const model = strings.of(sent);
      const request: ChatRequest = model === body.model ? body : { ...body, model };
      return provider.chat!(attempt, request, strings);
    });
  }

  private modelId(ctx: Context): string | undefined {
    const id = MODELS_PATH.exec(ctx.path)?.[1];
    return id === undefined ? undefined : safeDecode(id);
  }

  private models(ctx: Context): ProviderResponse {
    const id = this.modelId(ctx);
    const body = id === undefined ? { object: 'list', data: this.list } : this.list.find((m) => m.id === id);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
