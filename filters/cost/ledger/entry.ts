/**
 * One audited request as a ledger row. The live feed and `ledger rebuild` both go through
 * {@link rowFromAudit}, from the same fields the audit line carries, so a rebuild from
 * the audit log reproduces the ledger exactly.
 *
 * The model is the client's word until a provider has seen it: a request the gateway
 * answered itself (refused by auth, the validator, a limit or a budget; a malformed body;
 * an open circuit) is kept under the model `''`, so whoever can reach the port cannot fill
 * the ledger and the dashboard's menus with names of their choosing. Any model is cut to
 * {@link MAX_MODEL_LENGTH} characters.
 */
import { usdToNanos } from '../price-book.js';
import type { LedgerRow } from './types.js';

/** The audit-line fields the ledger reads (a parsed line is one). */
export interface AuditFields {
  timestamp: string;
  user?: string | null;
  workspace?: string | null;
  project?: string | null;
  provider?: string | null;
  model?: string | null;
  status: number;
  tokens_in?: number;
  tokens_out?: number;
  cache_creation_tokens?: number;
  cache_read_tokens?: number;
  /** Of the cache writes, the 1-hour ones; absent when none (or from lines before it existed). */
  cache_creation_1h_tokens?: number;
  cost_usd?: number;
  price_missing?: boolean;
  /** Upstream attempts; 0 when none was made. Absent from lines written before it existed. */
  attempts?: number;
  cache_hit?: boolean;
}

/** The longest model name the ledger keeps; a longer one is cut (no pair of surrogates split). */
export const MAX_MODEL_LENGTH = 200;

/** The ledger's model for an audited request: `''` unless a provider was asked or the cache answered. */
export function ledgerModel(a: Pick<AuditFields, 'model' | 'attempts' | 'cache_hit'>): string {
  const model = a.model ?? '';
  // A line without `attempts` predates it: whether the request went upstream is unknown, so its model stays.
  if (a.attempts !== undefined && a.attempts <= 0 && a.cache_hit !== true) return '';
  if (model.length <= MAX_MODEL_LENGTH) return model;
  const cut = /[\ud800-\udbff]/.test(model[MAX_MODEL_LENGTH - 1]) ? MAX_MODEL_LENGTH - 1 : MAX_MODEL_LENGTH;
  return model.slice(0, cut);
}

export function rowFromAudit(a: AuditFields): LedgerRow {
  return {
    day: a.timestamp.slice(0, 10),
    user: a.user ?? '',
    workspace: a.workspace ?? '',
    project: a.project ?? '',
    provider: a.provider ?? '',
    model: ledgerModel(a),
    requests: 1,
    errors: a.status >= 400 ? 1 : 0,
    tokens_in: a.tokens_in ?? 0,
    tokens_out: a.tokens_out ?? 0,
    cache_creation_tokens: a.cache_creation_tokens ?? 0,
    cache_read_tokens: a.cache_read_tokens ?? 0,
    cost_nanos: usdToNanos(a.cost_usd ?? 0),
    unpriced: a.price_missing === true ? 1 : 0,
  };
}
