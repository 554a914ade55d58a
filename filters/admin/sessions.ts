/**
 * Dashboard sessions that were logged out, remembered until they would have expired. A
 * session cookie is stateless (expiry and an HMAC), so clearing it in the browser alone
 * would leave a copy of it valid for up to 12 hours; logout has to be remembered to end it.
 *
 * Each process keeps a bounded record in the runtime's shared state (it survives reloads).
 * On the Redis store the record is also kept there, so a logout ends the session on every
 * worker and replica; on the memory store (one process) the local record is the whole of it.
 */
import { StoreUnavailableError, type AtomicScript, type Store } from '../../core/index.js';

/** Most ended sessions remembered per process. Only a token holder can end one, so it is never reached in practice. */
const MAX_ENDED = 10_000;
const GROUP = 'admin-sessions';

const endScript: AtomicScript<number> = {
  name: 'admin_session_end',
  lua: "redis.call('SET', KEYS[1], 1, 'PX', ARGV[1]) return 1",
  local: (cells, args) => {
    cells.set(0, 1, args[0]);
    return 1;
  },
  parse: (reply) => Number(reply),
};

const endedScript: AtomicScript<boolean> = {
  name: 'admin_session_ended',
  lua: "return redis.call('EXISTS', KEYS[1])",
  local: (cells) => cells.get(0) !== undefined,
  parse: (reply) => Number(reply) === 1,
};

export class EndedSessions {
  /** Session id → when it would have expired (ms), oldest first. */
  private readonly local = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Remember that session `id`, valid until `expiry`, was logged out. */
  async end(id: string, expiry: number, store: Store | undefined): Promise<void> {
    const now = this.clock();
    if (expiry <= now) return;
    if (this.local.size >= MAX_ENDED) {
      for (const [k, at] of this.local) if (at <= now) this.local.delete(k);
      // Still full: forget the one that expires first (they were all made 12 hours long).
      if (this.local.size >= MAX_ENDED) this.local.delete(this.local.keys().next().value!);
    }
    this.local.set(id, expiry);
    if (store) await store.run(endScript, GROUP, [`ended:${id}`], [Math.ceil(expiry - now)]);
  }

  /**
   * Whether session `id` was logged out here or, on a shared store, anywhere. A store that
   * cannot answer is treated as its fail mode says: `open` believes the session, `closed` does not.
   */
  has(id: string, store: Store | undefined): boolean | Promise<boolean> {
    const at = this.local.get(id);
    if (at !== undefined) {
      if (at > this.clock()) return true;
      this.local.delete(id);
    }
    if (!store) return false;
    const failed = (err: unknown): boolean => {
      if (err instanceof StoreUnavailableError) return store.failMode === 'closed';
      throw err;
    };
    try {
      const ended = store.run(endedScript, GROUP, [`ended:${id}`], []);
      return ended instanceof Promise ? ended.catch(failed) : ended;
    } catch (err) {
      return failed(err);
    }
  }
}
