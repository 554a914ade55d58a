/**
 * The store contract: where counters that must outlive a pipeline (rate limits, budgets)
 * live. A consumer defines its read-modify-write once as an {@link AtomicScript} — Lua for
 * Redis, the same logic in TypeScript for memory — so a check and its update are always
 * one atomic step inside the store, never a local pre-check plus a remote increment.
 */
import type { RedisTlsFiles } from './redis-tls.js';

/** The numeric cells an {@link AtomicScript} reads and writes, indexed like its keys. */
export interface Cells {
  /** The cell's value, or undefined when absent or expired. */
  get(index: number): number | undefined;
  /** Store a value that expires after `ttlMs` (the store forgets it lazily). */
  set(index: number, value: number, ttlMs: number): void;
  delete(index: number): void;
}

/**
 * One atomic operation over a few keys of one group, with two equivalent bodies.
 * @example
 * const incr: AtomicScript<number> = {
 *   name: 'incr',
 *   lua: "local v = (tonumber(redis.call('GET', KEYS[1])) or 0) + tonumber(ARGV[1]); redis.call('SET', KEYS[1], v, 'PX', 60000); return v",
 *   local: (cells, args) => { const v = (cells.get(0) ?? 0) + args[0]; cells.set(0, v, 60_000); return v; },
 *   parse: (reply) => Number(reply),
 * };
 */
export interface AtomicScript<R> {
  /** Names the script in metrics and logs. */
  readonly name: string;
  /**
   * Lua run by Redis (EVALSHA): `KEYS` are the full keys, `ARGV` the args as strings.
   * Read the clock with `redis.call('TIME')` so every replica agrees on it. Redis
   * truncates returned numbers to integers.
   */
  readonly lua: string;
  /**
   * How many of the leading keys the Lua reads and writes (default: all). A script may pack
   * several cells into one Redis key, a GET and a SET where each cell would cost its own
   * call; its other keys then name cells only the memory store's `local` body keeps, and
   * are not sent to Redis.
   */
  readonly redisKeys?: number;
  /** The same operation for the memory store; `nowMs` is the store's clock. */
  local(cells: Cells, args: readonly number[], nowMs: number): R;
  /** Turn Redis's reply into the script's result. */
  parse(reply: unknown): R;
}

/** What a store does when its backend cannot be reached, chosen in the config. */
export type FailMode = 'open' | 'closed';

/** Counters shared by every pipeline of a runtime (and, for Redis, every replica). */
export interface Store {
  /** `memory` or `redis`. */
  readonly type: string;
  /** What consumers should do on {@link StoreUnavailableError}: admit (`open`) or refuse (`closed`). */
  readonly failMode: FailMode;
  /**
   * Run `script` atomically over `keys`, all in `group` (one hash tag, so one Redis Cluster
   * slot). The memory store answers synchronously; Redis with a promise. Rejects with
   * {@link StoreUnavailableError} when the backend is unreachable or too slow. `keys` and
   * `args` are read before `run` returns, so a caller may refill the same arrays for its next run.
   */
  run<R>(script: AtomicScript<R>, group: string, keys: readonly string[], args: readonly number[]): R | Promise<R>;
  /** Resolves true once the store can serve (false after `timeoutMs` without it). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * How long a pipeline being built waits for its store to connect (`Store.ready`) before it is
 * put in use anyway, its requests then getting the fail mode until the store connects.
 */
export const STORE_READY_MS = 2000;

/** The backend could not answer in time; the consumer applies the store's fail mode. */
export class StoreUnavailableError extends Error {
  /**
   * For an operation that timed out after it was sent: its own result, should the backend
   * still run it (Redis runs what it was sent once it catches up). A consumer whose
   * operation spends (a reservation) hands it back when this resolves; it never rejects.
   */
  readonly late: Promise<unknown> | undefined;

  constructor(message: string, options?: { cause?: unknown; late?: Promise<unknown> }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
    this.late = options?.late;
  }
}

/**
 * Calls `then` with the result of an operation that failed by timing out but that the
 * backend still ran ({@link StoreUnavailableError.late}); does nothing for other failures.
 * `R` is the operation's script result: what an undo needs to know what was spent.
 */
export function onLateResult<R>(err: unknown, then: (result: R) => void): void {
  if (!(err instanceof StoreUnavailableError) || !err.late) return;
  void err.late.then((result) => {
    if (result !== undefined) then(result as R);
  });
}

/** The top-level `store:` section of the config, defaults applied. */
export interface StoreConfig {
  type: 'memory' | 'redis';
  memory?: { max_groups: number };
  redis?: { url: string; cluster?: boolean; sentinel?: { master: string; nodes: string[]; password?: string; username?: string }; key_prefix: string; fail_mode: FailMode; timeout_ms: number; tls?: RedisTlsFiles };
}
