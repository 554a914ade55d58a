/**
 * GCRA (the generic cell rate algorithm: a token bucket that drips back continuously)
 * over two dimensions at once, requests and tokens. Why GCRA rather than a sliding window:
 * - O(1) state per key however busy it is, and the keys expire by themselves once the
 *   bucket is full again, so nothing ever sweeps; a sliding log needs an entry per request;
 * - replenishment is continuous, so there is no window boundary to burst across: after a
 *   client spends its whole limit, the next moments admit only what has dripped back
 *   (limit/60 per second), never a second full limit at once;
 * - costs of any size, refunds and overdrafts are exact arithmetic, which is what
 *   reserve-then-reconcile needs; a sliding-window counter only approximates;
 * - it is the token-bucket semantics Anthropic and OpenAI document for their own limits,
 *   so `remaining` and `reset` headers mean what clients expect.
 * The state is kept as (level in units, time of the level) rather than GCRA's single
 * arrival time, so a reload that changes a limit keeps what was spent, in requests and
 * tokens, and only the drip rate changes.
 *
 * Modes: 0 reserve (check every dimension, commit all or nothing), 1 adjust (add a
 * signed cost without checking: reconcile or refund), 2 peek. A limit of -1 skips its
 * dimension; 0 refuses any cost. The Lua and TypeScript bodies must stay equivalent.
 *
 * On Redis a scope's four numbers are one string key, `<requests> <at> <tokens> <at>`
 * (a GET and a SET a run): each `redis.call` from Lua costs Redis about a microsecond, and
 * four keys of their own made a reserve nine calls and Redis's dearest work a request. The
 * key lives until its fuller dimension has drained. A run that skips a dimension (limit -1:
 * an adjustment with nothing to add there, or a limit a reload removed) carries its numbers
 * over and keeps the key at least as long as it had left, as the memory store's cells keep
 * their own expiry.
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
local cells = {}
local stored = redis.call('GET', KEYS[1])
if stored then
  local a, b, c, d = string.match(stored, '^(%S+) (%S+) (%S+) (%S+)$')
  if a then cells = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) } end
end
local levels, news = {}, {}
local denied, retry = 0, 0
for i = 1, 2 do
  local limit = limits[i]
  if limit >= 0 then
    local level = cells[2 * i - 1] or 0
    local at = cells[2 * i] or now
    if limit > 0 and at < now then level = level - (now - at) * limit / window end
    if level < 0 then level = 0 end
    levels[i] = level
    local new = level + costs[i]
    if new < 0 then new = 0 end
    if mode == 0 and costs[i] > 0 and new > limit + ${EPS} then
      if denied == 0 then denied = i end
      local wait = window
      if limit > 0 then wait = (new - limit) * window / limit end
      if wait > retry then retry = wait end
    end
    news[i] = new
  end
end
local state = news
if mode == 2 or denied ~= 0 then state = levels end
if mode ~= 2 and denied == 0 then
  local ttl, carried = 0, false
  for i = 1, 2 do
    local new = news[i]
    if new ~= nil then
      cells[2 * i - 1], cells[2 * i] = new, now
      if new > 0 then
        local drained = window
        if limits[i] > 0 then drained = math.ceil(new * window / limits[i]) + 1 end
        if drained > ttl then ttl = drained end
      end
    elseif (cells[2 * i - 1] or 0) > 0 then
      carried = true
    end
  end
  if carried then
    local left = redis.call('PTTL', KEYS[1])
    if left > ttl then ttl = left end
  end
  if ttl > 0 then
    redis.call('SET', KEYS[1], string.format('%.6f %.3f %.6f %.3f', cells[1] or 0, cells[2] or now, cells[3] or 0, cells[4] or now), 'PX', ttl)
  elseif stored then
    redis.call('DEL', KEYS[1])
  end
end
local out = { denied == 0 and 1 or 0, denied, math.ceil(retry), -1, -1, -1, -1 }
for i = 1, 2 do
  if state[i] ~= nil then
    local limit = limits[i]
    local remaining, reset = 0, window
    if limit > 0 then
      remaining = math.floor(limit - state[i] + ${EPS})
      reset = math.ceil(state[i] * window / limit)
    end
    if remaining < 0 then remaining = 0 end
    out[2 + 2 * i] = remaining
    out[3 + 2 * i] = reset
  end
end
return out
`;

const LIMITS = [0, 0];
const COSTS = [0, 0];
/** Per dimension; NaN where the dimension has no limit (a double array: no boxing). */
const LEVELS = [NaN, NaN];
const NEWS = [NaN, NaN];

function local(cells: Cells, args: readonly number[], now: number): GcraResult {
  const [mode, window, reqLimit, tokLimit, reqCost, tokCost] = args;
  // Scratch pairs reused across calls (runs are synchronous and never nest): this runs
  // four times per request on the memory store.
  const limits = LIMITS;
  const costs = COSTS;
  const levels = LEVELS;
  const news = NEWS;
  limits[0] = reqLimit;
  limits[1] = tokLimit;
  costs[0] = reqCost;
  costs[1] = tokCost;
  levels[0] = levels[1] = news[0] = news[1] = NaN;
  let denied: 0 | 1 | 2 = 0;
  let retry = 0;
  for (let i = 0; i < 2; i++) {
    const limit = limits[i];
    if (limit < 0) continue;
    let level = cells.get(2 * i) ?? 0;
    const at = cells.get(2 * i + 1) ?? now;
    if (limit > 0 && at < now) level -= ((now - at) * limit) / window;
    level = Math.max(0, level);
    levels[i] = level;
    const next = Math.max(0, level + costs[i]);
    if (mode === Mode.Reserve && costs[i] > 0 && next > limit + EPS) {
      if (denied === 0) denied = (i + 1) as 1 | 2;
      retry = Math.max(retry, limit > 0 ? ((next - limit) * window) / limit : window);
    }
    news[i] = next;
  }
  const state = mode === Mode.Peek || denied !== 0 ? levels : news;
  if (mode !== Mode.Peek && denied === 0) {
    for (let i = 0; i < 2; i++) {
      const next = news[i];
      if (Number.isNaN(next)) continue;
      if (next > 0) {
        const ttl = limits[i] > 0 ? Math.ceil((next * window) / limits[i]) + 1 : window;
        cells.set(2 * i, next, ttl);
        cells.set(2 * i + 1, now, ttl);
      } else {
        cells.delete(2 * i);
        cells.delete(2 * i + 1);
      }
    }
  }
  return { allowed: denied === 0, denied, retryMs: Math.ceil(retry), requests: dimension(state[0], reqLimit, window), tokens: dimension(state[1], tokLimit, window) };
}

/** One dimension's state as clients see it; undefined when it has no limit (level NaN). */
function dimension(level: number, limit: number, window: number): DimensionState | undefined {
  if (Number.isNaN(level)) return undefined;
  if (limit <= 0) return { remaining: 0, resetMs: window };
  return { remaining: Math.max(0, Math.floor(limit - level + EPS)), resetMs: Math.ceil((level * window) / limit) };
}

function parse(reply: unknown): GcraResult {
  const r = (reply as unknown[]).map(Number);
  const dim = (at: number): DimensionState | undefined => (r[at] < 0 ? undefined : { remaining: r[at], resetMs: r[at + 1] });
  return { allowed: r[0] === 1, denied: r[1] as 0 | 1 | 2, retryMs: r[2], requests: dim(3), tokens: dim(5) };
}

/**
 * Cells: `[requests, requestsAt, tokens, tokensAt]`, four keys in memory; on Redis all four
 * live in the first key, so only it is sent. Args: `[mode, windowMs, requestLimit, tokenLimit, requestCost, tokenCost]`.
 */
export const gcra: AtomicScript<GcraResult> = { name: 'rate-limit-gcra', lua, redisKeys: 1, local, parse };
