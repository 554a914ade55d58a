/**
 * GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp) over two
 * dimensions at once: requests and tokens. Why GCRA rather than a sliding window:
 * - one number per key (the "theoretical arrival time"), so memory and Redis work are
 *   O(1) per request however busy the key, and the key expires by itself when the
 *   bucket is full again — nothing to sweep;
 * - replenishment is continuous, so there is no window boundary to burst across: after a
 *   client spends its whole limit, the next minute admits only what has dripped back
 *   (limit/60 per second), never a second full limit at once;
 * - costs of any size and refunds are exact arithmetic on the timestamp, which is what
 *   reserve-then-reconcile needs; a sliding log would need an entry per request;
 * - it is the token-bucket semantics Anthropic and OpenAI document for their own limits,
 *   so the `remaining` and `reset` headers mean what clients expect.
 *
 * Modes: 0 reserve (check every dimension, commit all or nothing), 1 adjust (add a
 * signed cost without checking: reconcile or refund), 2 peek. A limit of -1 skips its
 * dimension; 0 refuses any cost. The Lua and TypeScript bodies must stay equivalent.
 */
import type { AtomicScript, Cells } from '../../core/index.js';

export const Mode = { Reserve: 0, Adjust: 1, Peek: 2 } as const;

/** One dimension's state after the operation; `undefined` when it has no limit. */
export interface DimensionState {
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

export interface GcraResult {
  allowed: boolean;
  /** The first dimension that refused: 1 requests, 2 tokens; 0 when allowed. */
  denied: 0 | 1 | 2;
  /** Milliseconds until the refused cost would fit. */
  retryMs: number;
  requests: DimensionState | undefined;
  tokens: DimensionState | undefined;
}

/** Rounding slack so `limit` unit costs exactly fill a window despite float division. */
const EPS = 1e-6;

const lua = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local mode = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limits = { tonumber(ARGV[3]), tonumber(ARGV[4]) }
local costs = { tonumber(ARGV[5]), tonumber(ARGV[6]) }
local tats, news = {}, {}
local denied, retry = 0, 0
for i = 1, 2 do
  local limit = limits[i]
  if limit >= 0 then
    local tat = tonumber(redis.call('GET', KEYS[i])) or now
    if tat < now then tat = now end
    tats[i] = tat
    local new = tat
    if limit == 0 then
      if mode == 0 and costs[i] > 0 then
        if denied == 0 then denied = i end
        if window > retry then retry = window end
      end
    else
      new = tat + costs[i] * window / limit
      if new < now then new = now end
      if mode == 0 and new - now > window + ${EPS} then
        if denied == 0 then denied = i end
        if new - now - window > retry then retry = new - now - window end
      end
    end
    news[i] = new
  end
end
local state = news
if mode == 2 or denied ~= 0 then state = tats end
if mode ~= 2 and denied == 0 then
  for i = 1, 2 do
    if news[i] ~= nil then
      if news[i] > now then
        redis.call('SET', KEYS[i], string.format('%.3f', news[i]), 'PX', math.ceil(news[i] - now) + 1)
      else
        redis.call('DEL', KEYS[i])
      end
    end
  end
end
local out = { denied == 0 and 1 or 0, denied, math.ceil(retry), -1, -1, -1, -1 }
for i = 1, 2 do
  if state[i] ~= nil then
    local limit = limits[i]
    local remaining = 0
    if limit > 0 then remaining = math.floor(limit - (state[i] - now) * limit / window + ${EPS}) end
    if remaining < 0 then remaining = 0 end
    out[2 + 2 * i] = remaining
    out[3 + 2 * i] = math.ceil(state[i] - now)
  end
end
return out
`;

function local(cells: Cells, args: readonly number[], now: number): GcraResult {
  const [mode, window, reqLimit, tokLimit, reqCost, tokCost] = args;
  const limits = [reqLimit, tokLimit];
  const costs = [reqCost, tokCost];
  const tats: Array<number | undefined> = [undefined, undefined];
  const news: Array<number | undefined> = [undefined, undefined];
  let denied: 0 | 1 | 2 = 0;
  let retry = 0;
  for (let i = 0; i < 2; i++) {
    const limit = limits[i];
    if (limit < 0) continue;
    const tat = Math.max(cells.get(i) ?? now, now);
    tats[i] = tat;
    let next = tat;
    if (limit === 0) {
      if (mode === Mode.Reserve && costs[i] > 0) {
        if (denied === 0) denied = (i + 1) as 1 | 2;
        retry = Math.max(retry, window);
      }
    } else {
      next = Math.max(now, tat + (costs[i] * window) / limit);
      if (mode === Mode.Reserve && next - now > window + EPS) {
        if (denied === 0) denied = (i + 1) as 1 | 2;
        retry = Math.max(retry, next - now - window);
      }
    }
    news[i] = next;
  }
  const state = mode === Mode.Peek || denied !== 0 ? tats : news;
  if (mode !== Mode.Peek && denied === 0) {
    for (let i = 0; i < 2; i++) {
      const next = news[i];
      if (next === undefined) continue;
      if (next > now) cells.set(i, next, Math.ceil(next - now) + 1);
      else cells.delete(i);
    }
  }
  const dim = (i: number): DimensionState | undefined => {
    const s = state[i];
    if (s === undefined) return undefined;
    const limit = limits[i];
    const remaining = limit > 0 ? Math.max(0, Math.floor(limit - ((s - now) * limit) / window + EPS)) : 0;
    return { remaining, resetMs: Math.ceil(s - now) };
  };
  return { allowed: denied === 0, denied, retryMs: Math.ceil(retry), requests: dim(0), tokens: dim(1) };
}

function parse(reply: unknown): GcraResult {
  const r = (reply as unknown[]).map(Number);
  const dim = (at: number): DimensionState | undefined => (r[at] < 0 ? undefined : { remaining: r[at], resetMs: r[at + 1] });
  return { allowed: r[0] === 1, denied: r[1] as 0 | 1 | 2, retryMs: r[2], requests: dim(3), tokens: dim(5) };
}

/** Keys: `[requests, tokens]`. Args: `[mode, windowMs, requestLimit, tokenLimit, requestCost, tokenCost]`. */
export const gcra: AtomicScript<GcraResult> = { name: 'rate-limit-gcra', lua, local, parse };
