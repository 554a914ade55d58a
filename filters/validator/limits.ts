/**
 * Validator limits, settable globally, per provider and per user. The most specific
 * setting wins for each number (user over provider over global); a model must pass every
 * allowlist that is set (global, the provider's, the user's).
 */
import { compileGlob } from '../../core/index.js';

/** One level of limits; every key is optional so an unset key inherits. */
export interface LimitSet {
  max_body_bytes?: number;
  max_tokens?: number;
  /** Over `max_tokens`: refuse with 400, or rewrite the request down to the maximum. */
  max_tokens_action?: 'reject' | 'clamp';
  max_prompt_chars?: number;
  max_prompt_tokens?: number;
  /** Allowed model ids; `*` matches any run of characters. */
  models?: string[];
}

export const limitSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_body_bytes: { type: 'integer', minimum: 1 },
    max_tokens: { type: 'integer', minimum: 1 },
    max_tokens_action: { enum: ['reject', 'clamp'] },
    max_prompt_chars: { type: 'integer', minimum: 1 },
    max_prompt_tokens: { type: 'integer', minimum: 1 },
    models: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
};

/** The limits in force for one provider and user, with allowlists compiled. */
export interface EffectiveLimits {
  readonly maxBodyBytes?: number;
  readonly maxTokens?: number;
  readonly clamp: boolean;
  readonly maxPromptChars?: number;
  readonly maxPromptTokens?: number;
  /** Each must match; empty means any model. */
  readonly allowlists: ReadonlyArray<{ readonly scope: string; readonly match: (model: string) => boolean }>;
}

export function wildcard(patterns: readonly string[]): (model: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*')).map(compileGlob);
  return (model) => exact.has(model) || globs.some((matches) => matches(model));
}

export class LimitTable {
  private readonly memo = new Map<string, EffectiveLimits>();

  constructor(
    private readonly global: LimitSet,
    private readonly providers: Readonly<Record<string, LimitSet>>,
    private readonly users: Readonly<Record<string, LimitSet>>,
  ) {}

  /** Limits for a request; memoized per (provider, configured user), so bounded by the config. */
  for(provider: string | undefined, user: string | undefined): EffectiveLimits {
    const p = provider !== undefined && Object.hasOwn(this.providers, provider) ? provider : '';
    const u = user !== undefined && Object.hasOwn(this.users, user) ? user : '';
    const key = `${p}\0${u}`;
    let limits = this.memo.get(key);
    if (!limits) {
      limits = this.merge(p ? this.providers[p] : undefined, u ? this.users[u] : undefined, p, u);
      this.memo.set(key, limits);
    }
    return limits;
  }

  private merge(provider: LimitSet | undefined, user: LimitSet | undefined, p: string, u: string): EffectiveLimits {
    const m: LimitSet = { ...this.global, ...provider, ...user };
    const allowlists: Array<{ scope: string; match: (model: string) => boolean }> = [];
    const add = (scope: string, models: string[] | undefined): void => {
      if (models && !models.includes('*')) allowlists.push({ scope, match: wildcard(models) });
    };
    add('this gateway', this.global.models);
    add(`provider "${p}"`, provider?.models);
    add(`user "${u}"`, user?.models);
    return {
      maxBodyBytes: m.max_body_bytes,
      maxTokens: m.max_tokens,
      clamp: m.max_tokens_action === 'clamp',
      maxPromptChars: m.max_prompt_chars,
      maxPromptTokens: m.max_prompt_tokens,
      allowlists,
    };
  }
}
