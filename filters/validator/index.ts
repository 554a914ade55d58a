/**
 * `validator`: refuses generation requests the gateway should not forward — body too
 * large (413), not JSON (400), not matching the dialect's JSON Schema (400, naming the
 * field), a model outside the allowlists (403, a policy refusal naming the model),
 * `max_tokens` over the maximum (400, or clamped when configured), a prompt too long in characters or
 * estimated tokens (400). A batch create (`ctx.batch`) is held to the same model, cap and
 * prompt rules for each request it holds (`batch.ts`) and for the model it names for all of
 * them; one whose requests are in a file it cannot read is refused (403) under a model
 * allowlist. Under an allowlist a generation must say what it runs on: one naming no model
 * nor agent is refused (400), as the upstream would pick; a conversation's append or
 * restart is judged on what the conversation runs on (`ctx.conversation`), and refused
 * (403) when that cannot be learned. Other requests pass untouched.
 */
import { CONTINUE, GatewayError, TYPE_ONLY, createKey, reply, shapeText, type BatchSubmission, type Filter, type FilterPlugin, type MaybePromise, type PluginEnv, type RequestContext } from '../../core/index.js';
import { LimitTable, limitSchema, type EffectiveLimits, type LimitSet } from './limits.js';
import { judgeBatch } from './batch.js';
import { CAP_READS, capOver, withCap } from './caps.js';
import { agentRefusal, capRefusal, hasPromptLimits, invalid, modelRefusal, promptRefusal, shown, targetRefusal, unknownConversation } from './rules.js';
import { describeError, loadSchema, resolveSchemaPath, type LoadedSchema } from './schemas.js';

export interface ValidatorConfig extends LimitSet {
  max_tokens_action: 'reject' | 'clamp';
  models: string[];
  /** Characters per token for the prompt-token estimate (4 is the usual English figure). */
  chars_per_token: number;
  /** Request-body schema per dialect name (`anthropic`, `openai`, …). */
  schemas: Record<string, string>;
  providers: Record<string, LimitSet>;
  users: Record<string, LimitSet>;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...limitSchema.properties,
    max_tokens_action: { enum: ['reject', 'clamp'], default: 'reject' },
    models: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['*'] },
    chars_per_token: { type: 'number', exclusiveMinimum: 0, default: 4 },
    schemas: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: { anthropic: 'anthropic-messages.schema.json' } },
    providers: { type: 'object', additionalProperties: limitSchema, default: {} },
    users: { type: 'object', additionalProperties: limitSchema, default: {} },
  },
};

/** Set when the body was rewritten, to say so in a response header: `<the cap it had>-><the maximum>`. */
const CLAMPED = createKey<string>('validator.clamped');

/**
 * Where the body fails its schema, or undefined. ajv's deep equality (`enum` or `const` of
 * an object, `uniqueItems`) calls a member named `toString` or `valueOf` as a method and
 * throws when the client's JSON made it a number or a string: the request's fault, a 400.
 */
function schemaError(schema: LoadedSchema, body: unknown): { field: string; message: string } | undefined {
  try {
    if (schema.validate(body)) return undefined;
  } catch {
    return { field: '(body)', message: "could not be compared with the request schema's values (a member named toString or valueOf?)" };
  }
  return describeError(schema.validate.errors![0]);
}

/** The body's refusal by its schema (or as not a JSON object), from the parts the schema reads. */
function schemaRefusal(ctx: RequestContext, schema: LoadedSchema | undefined): GatewayError | undefined {
  // The prompt's text is not decoded unless the schema reads it (most do not), and only
  // what the schema looks at is built: not an agent's tools and tool results.
  const exact = schema !== undefined && !schema.shapeSafe;
  const body = exact ? ctx.json() : ctx.jsonPick(schema?.reads ?? TYPE_ONLY); // throws the 400 for malformed JSON
  if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid('(body)', 'must be a JSON object');
  const failed = schema && schemaError(schema, body);
  return failed ? invalid(exact ? failed.field : shapeText(failed.field), failed.message) : undefined;
}

function createValidator(config: ValidatorConfig, env: PluginEnv): Filter {
  const schemas = new Map<string, LoadedSchema>();
  for (const [dialect, ref] of Object.entries(config.schemas)) {
    const file = resolveSchemaPath(ref, env.configDir);
    try {
      schemas.set(dialect, loadSchema(file));
    } catch (err) {
      throw new Error(`schemas.${dialect}: cannot load ${file}: ${(err as Error).message}`);
    }
  }
  const { providers, users, schemas: _s, chars_per_token: _c, ...global } = config;
  const table = new LimitTable(global, providers, users);
  const perToken = config.chars_per_token;

  function check(ctx: RequestContext, limits: EffectiveLimits): MaybePromise<GatewayError | undefined> {
    if (limits.maxBodyBytes !== undefined && ctx.body.length > limits.maxBodyBytes) {
      return new GatewayError('GW_ERR_REQUEST_TOO_LARGE', `Request body of ${ctx.body.length} bytes is larger than the ${limits.maxBodyBytes} bytes allowed`);
    }
    const schema = schemas.get(ctx.dialect.name);
    // A large body the schema passes is judged on its bytes alone; any other is built.
    if (!(schema?.check && ctx.jsonCheck(schema.check))) {
      const refused = schemaRefusal(ctx, schema);
      if (refused) return refused;
    }
    if (limits.allowlists.length > 0) {
      const conversation = ctx.conversation;
      if (ctx.model === undefined && ctx.agent === undefined && conversation) {
        // A continuation runs on what its conversation began with: learned, then judged as that start was.
        return conversation.targetOf(ctx).then((target) => {
          const refused = target ? targetRefusal(target, limits) : unknownConversation(limits);
          if (refused) return refused;
          conversation.remember(ctx);
          return checkRest(ctx, limits);
        });
      }
      const forbidden = targetRefusal(ctx, limits);
      if (forbidden) return forbidden;
      conversation?.remember(ctx);
    }
    return checkRest(ctx, limits);
  }

  /** The rules after the model's: output caps, prompt size. */
  function checkRest(ctx: RequestContext, limits: EffectiveLimits): GatewayError | undefined {
    // Every cap the body holds, not only the one inspect read into ctx.maxOutputTokens.
    const max = limits.maxTokens;
    const over = max === undefined ? undefined : capOver(ctx.jsonPick(CAP_READS), max);
    if (max !== undefined && over) {
      // Rebuilt from the shape where it can be: the prompt's text is copied, not decoded.
      const source = limits.clamp ? ctx.rewritableBody() : undefined;
      const rewritten = source ? withCap(source.value as Record<string, unknown>, max) : undefined;
      if (!source || !rewritten) return capRefusal(over, max);
      ctx.set(CLAMPED, `${shown(over.value)}->${max}`);
      ctx.replaceBody(source.strings.serialize(rewritten));
      ctx.maxOutputTokens = max;
    }
    return hasPromptLimits(limits) ? promptRefusal(ctx.json() as Record<string, unknown>, limits, perToken) : undefined;
  }

  /** A batch create: every request it holds judged as if it came alone; none of it is counted here. */
  function checkBatch(ctx: RequestContext, batch: BatchSubmission, limits: EffectiveLimits): GatewayError | undefined {
    // The model or agent it names for all its requests (in its path, a job field), as a single request's.
    const model = (batch.model && modelRefusal(batch.model.name, limits, batch.model.field, batch.model.base)) || (batch.agent && agentRefusal(batch.agent.id, limits, batch.agent.field));
    if (model) return model;
    const inBody = batch.inline !== undefined || batch.single !== undefined;
    if (batch.file !== undefined || !inBody) {
      // Its requests are elsewhere (an uploaded file): a model rule cannot be kept, so the batch is refused.
      const list = limits.allowlists[0];
      if (list) {
        const field = batch.file ?? '(body)';
        const why = `a batch's requests are in an uploaded file the gateway cannot read, so their models cannot be checked against the models allowed for ${list.scope}; send them as single requests instead`;
        return new GatewayError('GW_ERR_AUTH_FORBIDDEN', `${field}: ${why}`, { param: field });
      }
    }
    if (!inBody || (limits.allowlists.length === 0 && limits.maxTokens === undefined && !hasPromptLimits(limits))) return undefined;
    const { refusal, clamped } = judgeBatch(ctx, batch, limits, perToken);
    if (clamped) ctx.set(CLAMPED, `${shown(clamped.value)}->${limits.maxTokens}`);
    return refusal;
  }

  return {
    onRequest(ctx) {
      const batch = ctx.kind === 'generation' ? undefined : ctx.batch;
      if (ctx.kind !== 'generation' && batch === undefined) return CONTINUE;
      // ctx.provider: on the unified endpoint the route names none; the model or X-Provider chose it.
      const limits = table.for(ctx.provider, ctx.identity?.user);
      const error = batch ? checkBatch(ctx, batch, limits) : check(ctx, limits);
      if (error instanceof Promise) return error.then((e) => (e ? reply(e) : CONTINUE));
      return error ? reply(error) : CONTINUE;
    },
    onResponse(ctx, head) {
      const clamped = ctx.get(CLAMPED);
      if (clamped !== undefined) head.headers['x-gateway-max-tokens-clamped'] = clamped;
    },
  };
}

const validator: FilterPlugin<ValidatorConfig> = {
  name: 'validator',
  apiVersion: 1,
  configSchema,
  create: createValidator,
};
export default validator;
