/**
 * A budget period's counters, as atomic store operations: `spent` (settled cost), `held`
 * (estimates reserved by requests in flight) and `fired` (how many thresholds were already
 * announced this period), all integer nano-USD.
 *
 * - {@link reserveScript} admits a request into every blocking budget of one store group
 *   (a user's day and month) at once, or into none: only if spent + held + its estimate
 *   fits each limit, so N replicas sharing Redis can never admit more than a budget between
 *   them.
 * - {@link budgetScript} commits one period (releases the estimate, adds the real cost and
 *   reports thresholds crossed for the first time: exactly once, whichever replica crosses)
 *   or peeks at it.
 *
 * Lua and TypeScript must agree.
 */
import type { AtomicScript, Cells } from '../../core/index.js';

/** What {@link reserveScript} found. */
export interface Reservation {
  /** 0 when every budget admitted (each now holds the estimate); else the 1-based index of the first that refused, and nothing is held. */
  refused: number;
  /** The refusing budget's spend and holds; 0 when admitted. */
  spent: number;
  held: number;
}

/*
 * Keys: `[spent, held]` of each budget in turn. Args: `[estimate, heldTtlMs, ...limits]`.
 * Result: `[refused, spent, held]`.
 */
const reserveLua = `
local amount = tonumber(ARGV[1])
local cells = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS / 2 do
  local limit = tonumber(ARGV[i + 2])
  local spent = tonumber(cells[2 * i - 1]) or 0
  local held = tonumber(cells[2 * i]) or 0
  if spent >= limit or spent + held + amount > limit then return { i, spent, held } end
end
if amount > 0 then
  for i = 2, #KEYS, 2 do
    redis.call('INCRBY', KEYS[i], ARGV[1])
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
return { 0, 0, 0 }
`;

const ADMITTED: Reservation = Object.freeze({ refused: 0, spent: 0, held: 0 });

function reserveLocal(cells: Cells, args: readonly number[]): Reservation {
  const amount = args[0];
  const count = args.length - 2;
  for (let i = 0; i < count; i++) {
    const limit = args[i + 2];
    const spent = cells.get(2 * i) ?? 0;
    const held = cells.get(2 * i + 1) ?? 0;
    if (spent >= limit || spent + held + amount > limit) return { refused: i + 1, spent, held };
  }
  if (amount > 0) for (let i = 0; i < count; i++) cells.set(2 * i + 1, (cells.get(2 * i + 1) ?? 0) + amount, args[1]);
  return ADMITTED;
}

function parseReservation(reply: unknown): Reservation {
  const r = reply as unknown[];
  return r[0] === 0 ? ADMITTED : { refused: Number(r[0]), spent: Number(r[1]), held: Number(r[2]) };
}

export const reserveScript: AtomicScript<Reservation> = { name: 'budget_reserve', lua: reserveLua, local: reserveLocal, parse: parseReservation };

/*
 * Modes: 1 commit, 2 peek. Keys: `[spent, held, fired]`.
 * Args: `[mode, actual, release, periodTtlMs, heldTtlMs, ...thresholdNanos]` (peek: `[mode]`).
 * Result: `[spent, held, firedBefore, firedNow]`.
 */
export const Mode = { Commit: 1, Peek: 2 } as const;

export interface BudgetState {
  spent: number;
  held: number;
  /** Thresholds announced before this operation. */
  firedBefore: number;
  /** Thresholds announced after it; `firedNow > firedBefore` means new alerts to send. */
  firedNow: number;
}

const lua = `
local mode = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local release = tonumber(ARGV[3])
local periodTtl = tonumber(ARGV[4])
local spent = tonumber(redis.call('GET', KEYS[1])) or 0
local held = tonumber(redis.call('GET', KEYS[2])) or 0
local fired = tonumber(redis.call('GET', KEYS[3])) or 0
if mode == 2 then return { spent, held, fired, fired } end
if release > 0 then
  held = redis.call('DECRBY', KEYS[2], ARGV[3])
  if held <= 0 then redis.call('DEL', KEYS[2]); held = 0 end
end
if amount > 0 then
  spent = redis.call('INCRBY', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], periodTtl)
end
local now = fired
for i = 6, #ARGV do
  if spent >= tonumber(ARGV[i]) and (i - 5) > now then now = i - 5 end
end
if now > fired then redis.call('SET', KEYS[3], now, 'PX', periodTtl) end
return { spent, held, fired, now }
`;

function local(cells: Cells, args: readonly number[]): BudgetState {
  const [mode, amount, release, periodTtl, heldTtl] = args;
  let spent = cells.get(0) ?? 0;
  let held = cells.get(1) ?? 0;
  const fired = cells.get(2) ?? 0;
  if (mode === Mode.Peek) return { spent, held, firedBefore: fired, firedNow: fired };
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
  for (let i = 5; i < args.length; i++) if (spent >= args[i] && i - 4 > now) now = i - 4;
  if (now > fired) cells.set(2, now, periodTtl);
  return { spent, held, firedBefore: fired, firedNow: now };
}

function parse(reply: unknown): BudgetState {
  const r = reply as unknown[];
  return { spent: Number(r[0]), held: Number(r[1]), firedBefore: Number(r[2]), firedNow: Number(r[3]) };
}

export const budgetScript: AtomicScript<BudgetState> = { name: 'budget', lua, local, parse };
