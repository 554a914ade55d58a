/**
 * The validator's rules for one generation's request body, shared by a request and by each
 * request a batch holds: its model against the allowlists, its output caps, its prompt's
 * size. `at` is where that body sits in what the client sent (`''` for the request itself,
 * `requests[3].params.` in a batch), so a refusal names the field the client can find.
 */
import { GatewayError } from '../../core/index.js';
import type { CapOver } from './caps.js';
import type { EffectiveLimits } from './limits.js';
import { promptChars } from './prompt.js';

export function invalid(field: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', `${field}: ${message}`, { param: field });
}

/**
 * A policy refusal (403) naming the model and the first allowlist it is outside, or
 * undefined. `field` is where the client named it (`requests[3].params.model`, `modelId`).
 * `base`: the base model id `model` spells another way (`ctx.baseModel`), which an
 * allowlist may name instead.
 */
export function modelRefusal(model: string, limits: EffectiveLimits, field = 'model', base?: string): GatewayError | undefined {
  for (const list of limits.allowlists) {
    if (!list.match(model) && !(base !== undefined && list.match(base))) return new GatewayError('GW_ERR_AUTH_FORBIDDEN', `${field}: "${model}" is not allowed for ${list.scope}`, { param: field });
  }
  return undefined;
}

/**
 * The refusal of a request that runs on an agent (`ctx.agent`), named in an allowlist as
 * `agent:<id>`: its model is the agent's, which the gateway cannot see, so only an entry
 * for the agent itself (`agent:ag_123`, `agent:*`) admits it where models are restricted.
 */
export function agentRefusal(agent: string, limits: EffectiveLimits, field = 'agent_id'): GatewayError | undefined {
  return modelRefusal(`agent:${agent}`, limits, field);
}

/**
 * The refusal of what a generation runs on: its model (with `baseModel`, a start's or
 * `ctx`'s) and its agent, each judged where named (a body may name both; the upstream
 * says which it runs). Neither named: refused where models are restricted (see
 * `modelRequired`).
 */
export function targetRefusal(target: { readonly model?: string; readonly baseModel?: string; readonly agent?: string }, limits: EffectiveLimits): GatewayError | undefined {
  if (target.model === undefined && target.agent === undefined) return modelRequired(limits);
  return (target.model !== undefined ? modelRefusal(target.model, limits, 'model', target.baseModel) : undefined) ?? (target.agent !== undefined ? agentRefusal(target.agent, limits) : undefined);
}

/**
 * A generation naming no model where models are restricted: some OpenAI-compatible servers
 * then run a default of their own, which no allowlist can be checked against. `at` as for
 * the caps (`requests[3].body.`).
 */
export function modelRequired(limits: EffectiveLimits, at = ''): GatewayError | undefined {
  const list = limits.allowlists[0];
  if (!list) return undefined;
  return invalid(`${at}model`, `a model must be named: only some models are allowed for ${list.scope}, and without one the upstream would run one of its own choosing`);
}

/** A continuation of a conversation whose model or agent the gateway could not learn, where models are restricted. */
export function unknownConversation(limits: EffectiveLimits): GatewayError | undefined {
  const list = limits.allowlists[0];
  if (!list) return undefined;
  return new GatewayError('GW_ERR_AUTH_FORBIDDEN', `the model or agent this conversation runs on could not be learned from the upstream, so it cannot be checked against the models allowed for ${list.scope}; start a new conversation naming an allowed model`);
}

function overMessage(over: CapOver, max: number): string {
  if (typeof over.value !== 'number') return `must be a number of tokens, at most ${max}`;
  return over.value > max ? `${over.value} is above the maximum of ${max}` : `${over.value} is not a number of tokens`;
}

/** The 400 for an output cap over the maximum. */
export function capRefusal(over: CapOver, max: number, at = ''): GatewayError {
  return invalid(at + over.field, overMessage(over, max));
}

export function hasPromptLimits(limits: EffectiveLimits): boolean {
  return limits.maxPromptChars !== undefined || limits.maxPromptTokens !== undefined;
}

/** The 400 for a prompt over `max_prompt_chars` or the token estimate over `max_prompt_tokens`, or undefined. */
export function promptRefusal(body: Record<string, unknown>, limits: EffectiveLimits, charsPerToken: number, at = ''): GatewayError | undefined {
  const chars = promptChars(body);
  if (limits.maxPromptChars !== undefined && chars > limits.maxPromptChars) {
    return invalid(`${at}messages`, `the prompt is ${chars} characters, above the maximum of ${limits.maxPromptChars}`);
  }
  const tokens = Math.ceil(chars / charsPerToken);
  if (limits.maxPromptTokens !== undefined && tokens > limits.maxPromptTokens) {
    return invalid(`${at}messages`, `the prompt is about ${tokens} tokens, above the maximum of ${limits.maxPromptTokens}`);
  }
  return undefined;
}

/** A cap for the clamp header: a number as it is; anything else by its JSON type alone (a client's string is not echoed). */
export function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : Array.isArray(value) ? 'array' : typeof value;
}
