/**
 * Redis Cluster masters that cannot be reached, so that calls on their slots fail at once.
 *
 * ioredis makes a new client for a lost node on the next call for its slots and queues the
 * call on it while it connects. A master whose host no longer answers at all (powered off, its
 * address gone: its SYNs go unanswered) then cost each such call the whole deadline, for as long
 * as the cluster took to promote its replica (Redis's default `cluster-node-timeout` is 15 s),
 * or for good with no replica; one that refused cost a connection attempt per call.
 *
 * So a master is held here once a connection to it failed to connect, was still connecting
 * when a call's deadline passed, or was found dead with its host unreachable (redis-liveness.ts).
 * While it is held, calls whose slot it owns fail at once, and every {@link ROUND_MS} the slot
 * map is read again (a promoted replica takes the slots, and calls go to it) and the node is
 * probed with a connection of its own (it answers: calls go to it again). A node that owns no
 * slot any more is let go.
 */
import type { Cluster } from 'ioredis';
import type { ProbeResult } from './redis-liveness.js';

/** How often the slot map is read and each held node probed, while any is held. */
export const ROUND_MS = 250;

export class UnreachableNodes {
  /** Held nodes (`host:port`, as the slot map names them), each with whether its probe is out. */
  private readonly held = new Map<string, { probing: boolean }>();
  private rounds: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    /** The master (`host:port`) that owns a key's slot now. */
    private readonly ownerOf: (key: string) => string | undefined,
    private readonly probe: (at: string) => Promise<ProbeResult>,
  ) {}

  /** How many nodes are held: while none is, a call pays nothing here. */
  get size(): number {
    return this.held.size;
  }

  /** The master that owns `key`'s slot, if it is held. */
  heldOwnerOf(key: string): string | undefined {
    const owner = this.ownerOf(key);
    return owner !== undefined && this.held.has(owner) ? owner : undefined;
  }

  /** `at` cannot be reached: probed now, then every round until it answers or owns no slot. */
  hold(at: string): void {
    if (this.held.has(at)) return;
    const state = { probing: false };
    this.held.set(at, state);
    this.rounds ??= setInterval(() => this.round(), ROUND_MS).unref();
    this.probeOnce(at, state);
  }

  /** `at` answers (a probe, or a client of the store's reached it). */
  release(at: string): void {
    if (!this.held.delete(at) || this.held.size > 0) return;
    clearInterval(this.rounds);
    this.rounds = undefined;
  }

  close(): void {
    this.held.clear();
    clearInterval(this.rounds);
    this.rounds = undefined;
  }

  private round(): void {
    // The map read last round (refreshing is asynchronous); ioredis ignores a refresh while one runs.
    const owners = new Set<string>();
    for (const slot of this.cluster.slots) if (slot?.[0] !== undefined) owners.add(slot[0]);
    this.cluster.refreshSlotsCache();
    for (const [at, state] of this.held) {
      if (!owners.has(at)) this.release(at);
      else this.probeOnce(at, state);
    }
  }

  private probeOnce(at: string, state: { probing: boolean }): void {
    if (state.probing) return;
    state.probing = true;
    void this.probe(at).then((result) => {
      state.probing = false;
      if (result === 'answers' && this.held.get(at) === state) this.release(at);
    });
  }
}
