/**
 * One agent session's guardrail state as one atomic store operation. Keys:
 * `[trip, tokens, cost, burn, call]` — the breaker (its value is the reason it tripped),
 * the session's token and cost totals, this minute's tokens, and the count of the tool
 * call the request repeats. Reasons: 1 loop, 2 token ceiling, 3 cost ceiling, 4 burn rate.
 *
 * Check (mode 0) args: `[0, maxTokens, maxCost, burnLimit, repeats, windowMs, hasCall]`
 * (a limit of -1 is off): refuses when tripped or over a ceiling; counts the repeated
 * call and trips the breaker for `windowMs` once it exceeds `repeats`.
 * Record (mode 1) args: `[1, tokens, cost, sessionTtlMs, burnTtlMs]`.
 * Result: the reason refused (0 = allowed).
 */
import type { AtomicScript, Cells } from '../../core/index.js';

export const Reason = { None: 0, Loop: 1, Tokens: 2, Cost: 3, Burn: 4 } as const;

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
if repeats >= 0 and tonumber(ARGV[7]) == 1 then
  local n = redis.call('INCR', KEYS[5])
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
  if n > repeats then
    redis.call('SET', KEYS[1], 1, 'PX', ARGV[6])
    return 1
  end
end
return 0
`;

function local(cells: Cells, args: readonly number[]): number {
  if (args[0] === 1) {
    const [, tokens, cost, ttl, burnTtl] = args;
    if (tokens > 0) {
      cells.set(1, (cells.get(1) ?? 0) + tokens, ttl);
      cells.set(3, (cells.get(3) ?? 0) + tokens, burnTtl);
    }
    if (cost > 0) cells.set(2, (cells.get(2) ?? 0) + cost, ttl);
    return Reason.None;
  }
  const tripped = cells.get(0);
  if (tripped !== undefined) return tripped;
  const [, maxTokens, maxCost, burn, repeats, windowMs, hasCall] = args;
  if (maxTokens >= 0 && (cells.get(1) ?? 0) >= maxTokens) return Reason.Tokens;
  if (maxCost >= 0 && (cells.get(2) ?? 0) >= maxCost) return Reason.Cost;
  if (burn >= 0 && (cells.get(3) ?? 0) >= burn) return Reason.Burn;
  if (repeats >= 0 && hasCall === 1) {
    const n = (cells.get(4) ?? 0) + 1;
    cells.set(4, n, windowMs);
    if (n > repeats) {
      cells.set(0, Reason.Loop, windowMs);
      return Reason.Loop;
    }
  }
  return Reason.None;
}

export const guardrailScript: AtomicScript<number> = { name: 'session-guardrails', lua, local, parse: (r) => Number(r) };
