/**
 * One audited request as a ledger row. The live feed and `ledger rebuild` both go through
 * {@link rowFromAudit}, from the same fields the audit line carries, so a rebuild from
 * the audit log reproduces the ledger exactly.
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
  cost_usd?: number;
  price_missing?: boolean;
}

export function rowFromAudit(a: AuditFields): LedgerRow {
  return {
    day: a.timestamp.slice(0, 10),
    user: a.user ?? '',
    workspace: a.workspace ?? '',
    project: a.project ?? '',
    provider: a.provider ?? '',
    model: a.model ?? '',
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
