/**
 * One agent session's guardrail state as one atomic store operation, over a fixed set of
 * keys (however long the session, it holds no more). Keys:
 * `[trip, tokens, cost, burn, last, repeats]` — the breaker (its value is the reason it
 * tripped), the session's token and cost totals, this minute's tokens (expiring when the
 * minute ends), the fingerprint of the session's last tool call and how many times in a
 * row it was sent. Reasons: 1 loop, 2 token ceiling, 3 cost ceiling, 4 burn rate.
 *
 * Check (mode 0) args: `[0, maxTokens, maxCost, burnLimit, repeats, windowMs, call]`
 * (a limit of -1 is off; `call` is the request's call fingerprint as a positive integer,
 * 0 when it made none): refuses when tripped or over a ceiling; counts the call when it
 * is the last one again within `windowMs` (any other call starts the count at 1) and trips
 * the breaker for `windowMs` once the count exceeds `repeats`. A request without a call
 * leaves the count as it is.
 * Record (mode 1) args: `[1, tokens, cost, sessionTtlMs, msLeftInMinute]`.
 * Result: the reason refused (0 = allowed).
 */
import type { AtomicScript, Cells } from '../../core/index.js';

export const Reason = { None: 0, Loop: 1, Tokens: 2, Cost: 3, Burn: 4 } as const;

/** The keys, in the order both bodies index them. */
export const GUARDRAIL_KEYS: readonly string[] = ['trip', 'tokens', 'cost', 'burn', 'last', 'repeats'];

// The fingerprint is compared as the string it was sent as: Lua would print a number that
// large with too few digits to store it back exactly.
const lua = `
local mode = tonumber(ARGV[1])
if mode == 1 then
  local tokens, cost = tonumber(ARGV[2]), tonumber(ARGV[3])
  if tokens > 0 then
    redis.call('INCRBY', KEYS[2], ARGV[2]); redis.call('PEXPIRE', KEYS[2], ARGV[4])
    redis.call('INCRBY', KEYS[4], ARGV[2]); redis.call('PEXPIRE', KEYS[4], ARGV[5])
  end
  if cost > 0 then redis.call('INCRBY', KEYS[3], ARGV[3]); redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
  return 0
end
local tripped = tonumber(redis.call('GET', KEYS[1]))
if tripped then return tripped end
local maxTokens, maxCost, burn, repeats = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if maxTokens >= 0 and (tonumber(redis.call('GET', KEYS[2])) or 0) >= maxTokens then return 2 end
if maxCost >= 0 and (tonumber(redis.call('GET', KEYS[3])) or 0) >= maxCost then return 3 end
if burn >= 0 and (tonumber(redis.call('GET', KEYS[4])) or 0) >= burn then return 4 end
if repeats >= 0 and ARGV[7] ~= '0' then
  local n = 1
  if redis.call('GET', KEYS[5]) == ARGV[7] then n = (tonumber(redis.call('GET', KEYS[6])) or 0) + 1 end
  redis.call('SET', KEYS[5], ARGV[7], 'PX', ARGV[6])
  redis.call('SET', KEYS[6], n, 'PX', ARGV[6])
  if n > repeats then
    redis.call('SET', KEYS[1], 1, 'PX', ARGV[6])
    return 1
  end
end
return 0
`;

function local(cells: Cells, args: readonly number[]): number {
  if (args[0] === 1) {
    const [, tokens, cost, ttl, minuteLeft] = args;
    if (tokens > 0) {
      cells.set(1, (cells.get(1) ?? 0) + tokens, ttl);
      cells.set(3, (cells.get(3) ?? 0) + tokens, minuteLeft);
    }
    if (cost > 0) cells.set(2, (cells.get(2) ?? 0) + cost, ttl);
    return Reason.None;
  }
  const tripped = cells.get(0);
  if (tripped !== undefined) return tripped;
  const [, maxTokens, maxCost, burn, repeats, windowMs, call] = args;
  if (maxTokens >= 0 && (cells.get(1) ?? 0) >= maxTokens) return Reason.Tokens;
  if (maxCost >= 0 && (cells.get(2) ?? 0) >= maxCost) return Reason.Cost;
  if (burn >= 0 && (cells.get(3) ?? 0) >= burn) return Reason.Burn;
  if (repeats >= 0 && call !== 0) {
    const n = cells.get(4) === call ? (cells.get(5) ?? 0) + 1 : 1;
    cells.set(4, call, windowMs);
    cells.set(5, n, windowMs);
    if (n > repeats) {
      cells.set(0, Reason.Loop, windowMs);
      return Reason.Loop;
    }
  }
  return Reason.None;
}

export const guardrailScript: AtomicScript<number> = { name: 'session-guardrails', lua, local, parse: (r) => Number(r) };
