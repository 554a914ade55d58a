/**
 * Random ledger rows for comparing ways of summing them: names that sort differently by
 * code point, by locale and by case, empty identity parts, costs whose sums pass 2^32
 * nano-USD, on days across month and year ends. Keys are distinct, as a ledger's are.
 */
import type { LedgerRow } from '../../filters/cost/ledger/types.js';
import { mulberry32 } from './prng.js';

export const NAMES = ['', 'alice', 'Alice', 'bob', 'Zed', 'ümit', 'émile', '😀 smile', "o'brien", 'a,b', '=sum(1)', 'x\u0001y', '(none)'];
export const PROVIDERS = ['anthropic', 'openai', 'bedrock', 'gemini'];
export const MODELS = ['', 'claude-sonnet-4', 'gpt-4o', 'gemini-2.5-pro', 'anthropic.claude-haiku', 'Claude-Sonnet-4'];

/** `count` rows with distinct keys on `days`, the same for a given `seed`. */
export function randomRows(seed: number, count: number, days: readonly string[]): LedgerRow[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (max: number) => Math.floor(rand() * (max + 1));
  const rows = new Map<string, LedgerRow>();
  while (rows.size < count) {
    const user = pick(NAMES);
    const r: LedgerRow = {
      day: pick(days), user, workspace: user ? `ws-${user}-${int(2)}` : pick(['', 'ws-shared']), project: pick(NAMES.slice(0, 6)), provider: pick(PROVIDERS), model: pick(MODELS),
      requests: 1 + int(50), errors: int(3), tokens_in: int(2_000_000), tokens_out: int(100_000), cache_creation_tokens: int(5_000), cache_read_tokens: int(900_000),
      // Mostly sub-dollar amounts with odd nano digits, some zero (unpriced), some large.
      cost_nanos: rand() < 0.1 ? 0 : rand() < 0.1 ? int(90_000_000_000) : int(999_999_999), unpriced: int(1),
    };
    rows.set(`${r.day}|${r.user}|${r.workspace}|${r.project}|${r.provider}|${r.model}`, r);
  }
  return [...rows.values()];
}
