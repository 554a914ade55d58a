/** A conversation the upstream keeps, for a policy judging a turn that names no model (`ctx.conversation`). */
import type { RequestContext } from './request-context.js';

/** What a conversation the upstream keeps runs on: a model, or an agent (whose model only the upstream knows). */
export interface ConversationTarget {
  readonly model?: string;
  readonly agent?: string;
}

/**
 * A conversation the upstream keeps (Mistral's Conversations API), which a request begins
 * (naming its model or agent in `ctx.model` / `ctx.agent`) or continues (an append, a
 * restart: it leaves both unset, for it runs on what the conversation began with, whatever
 * its body names). Set on `ctx.conversation` by the provider's `inspect`, one object per
 * provider; it does nothing unless a model policy calls it, so the path without one pays
 * nothing.
 * @example
 * // A model policy, under an allowlist, on a continuation:
 * const target = await ctx.conversation.targetOf(ctx); // undefined: cannot be told, refuse
 * if (target && allowed(target)) ctx.conversation.remember(ctx);
 */
export interface UpstreamConversation {
  /**
   * What the conversation this request continues runs on: remembered from the answer that
   * began it, or asked of the upstream; undefined for a start, or when the upstream knows
   * none. Rejects with a retryable GatewayError (502, 504) when the upstream fails to answer.
   */
  targetOf(ctx: RequestContext): Promise<ConversationTarget | undefined>;
  /**
   * A policy admitted this request on what it runs on: learn from its answer which
   * conversation that is, so a continuation of it is judged without asking the upstream.
   */
  remember(ctx: RequestContext): void;
}
