/**
 * One budget period's counters, as one atomic store operation: `spent` (settled cost),
 * `held` (estimates reserved by requests in flight) and `fired` (how many thresholds were
 * already announced this period), all integer nano-USD. Reserve admits a request only if
 * spent + held + its estimate fits the limit, so N replicas sharing Redis can never admit
 * more than the budget between them; commit releases the estimate, adds the real cost and
 * reports thresholds crossed for the first time — exactly once, whichever replica crosses.
 *
 * Modes: 0 reserve, 1 commit, 2 peek. Keys: `[spent, held, fired]`.
 * Args: `[mode, limit, amount, release, periodTtlMs, heldTtlMs, ...thresholdNanos]`
 * (reserve: amount = estimate; commit: amount = actual, release = the estimate held).
 * Result: `[allowed, spent, held, firedBefore, firedNow]`. Lua and TypeScript must agree.
 */
import type { AtomicScript, Cells } from '../../core/index.js';

export const Mode = { Reserve: 0, Commit: 1, Peek: 2 } as const;

export interface BudgetState {
  allowed: boolean;
  spent: number;
  held: number;
  /** Thresholds announced before this operation. */
  firedBefore: number;
  /** Thresholds announced after it; `firedNow > firedBefore` means new alerts to send. */
  firedNow: number;
}

const lua = `
local mode = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local release = tonumber(ARGV[4])
local periodTtl = tonumber(ARGV[5])
local heldTtl = tonumber(ARGV[6])
local spent = tonumber(redis.call('GET', KEYS[1])) or 0
local held = tonumber(redis.call('GET', KEYS[2])) or 0
local fired = tonumber(redis.call('GET', KEYS[3])) or 0
if mode == 2 then return { 1, spent, held, fired, fired } end
if mode == 0 then
  if limit >= 0 and (spent >= limit or spent + held + amount > limit) then return { 0, spent, held, fired, fired } end
  if amount > 0 then
    held = redis.call('INCRBY', KEYS[2], ARGV[3])
    redis.call('PEXPIRE', KEYS[2], heldTtl)
  end
  return { 1, spent, held, fired, fired }
end
if release > 0 then
  held = redis.call('DECRBY', KEYS[2], ARGV[4])
  if held <= 0 then redis.call('DEL', KEYS[2]); held = 0 end
end
if amount > 0 then
  spent = redis.call('INCRBY', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], periodTtl)
end
local now = fired
for i = 7, #ARGV do
  if spent >= tonumber(ARGV[i]) and (i - 6) > now then now = i - 6 end
end
if now > fired then redis.call('SET', KEYS[3], now, 'PX', periodTtl) end
return { 1, spent, held, fired, now }
`;

function local(cells: Cells, args: readonly number[]): BudgetState {
  const [mode, limit, amount, release, periodTtl, heldTtl] = args;
  let spent = cells.get(0) ?? 0;
  let held = cells.get(1) ?? 0;
  const fired = cells.get(2) ?? 0;
  if (mode === Mode.Peek) return { allowed: true, spent, held, firedBefore: fired, firedNow: fired };
  if (mode === Mode.Reserve) {
    if (limit >= 0 && (spent >= limit || spent + held + amount > limit)) return { allowed: false, spent, held, firedBefore: fired, firedNow: fired };
    if (amount > 0) cells.set(1, (held += amount), heldTtl);
    return { allowed: true, spent, held, firedBefore: fired, firedNow: fired };
  }
  if (release > 0) {
    held -= release;
    if (held <= 0) {
      cells.delete(1);
      held = 0;
    } else {
      cells.set(1, held, heldTtl);
    }
  }
  if (amount > 0) cells.set(0, (spent += amount), periodTtl);
  let now = fired;
  for (let i = 6; i < args.length; i++) if (spent >= args[i] && i - 5 > now) now = i - 5;
  if (now > fired) cells.set(2, now, periodTtl);
  return { allowed: true, spent, held, firedBefore: fired, firedNow: now };
}

function parse(reply: unknown): BudgetState {
  const r = (reply as unknown[]).map(Number);
  return { allowed: r[0] === 1, spent: r[1], held: r[2], firedBefore: r[3], firedNow: r[4] };
}

export const budgetScript: AtomicScript<BudgetState> = { name: 'budget', lua, local, parse };
