/**
 * Targets: where a request may be sent. A target is a provider instance (plus an optional
 * model override) with a weight and a priority. A {@link TargetList} yields, per request,
 * the order to try them in: priority groups ascending, and inside a group a weighted draw
 * without replacement — so two keys of one provider share load 3:1 and each backs up the
 * other, before a lower-priority fallback is touched.
 */
import type { ProviderSlot } from '../pipeline.js';
import type { TargetEntry } from './config.js';
import type { TargetChoice } from '../request-context.js';

/** One place a request can be served. */
export interface Target {
  /** The provider instance name; also the key of its breaker and retry budget. */
  readonly name: string;
  readonly slot: ProviderSlot;
  /** Model sent upstream instead of the request's; absent keeps the request's. */
  readonly model?: string;
  readonly weight: number;
  readonly priority: number;
}

export class TargetList {
  /** Groups of equal priority, ascending. */
  private readonly groups: ReadonlyArray<readonly Target[]>;
  readonly primary: Target;
  readonly size: number;
  /** The targets weighted balancing draws a first attempt from (the lowest priority's), the primary first; undefined for one. */
  readonly balanced: readonly TargetChoice[] | undefined;

  constructor(readonly all: readonly Target[]) {
    const targets = all;
    if (targets.length === 0) throw new Error('a target list needs at least one target');
    const byPriority = new Map<number, Target[]>();
    for (const t of targets) {
      const group = byPriority.get(t.priority);
      if (group) group.push(t);
      else byPriority.set(t.priority, [t]);
    }
    this.groups = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
    this.primary = this.groups[0][0];
    this.size = targets.length;
    this.balanced = this.groups[0].length > 1 ? this.groups[0].map((t) => ({ provider: t.name, model: t.model })) : undefined;
  }

  /** A list of just `slot`: what a request gets when nothing more is configured. */
  static single(slot: ProviderSlot, model?: string): TargetList {
    return new TargetList([{ name: slot.name, slot, model, weight: 1, priority: 0 }]);
  }

  /** The try order for one request. */
  order(random: () => number = Math.random): Target[] {
    if (this.size === 1) return [this.primary];
    const out: Target[] = [];
    for (const group of this.groups) {
      if (group.length === 1) {
        out.push(group[0]);
        continue;
      }
      const left = [...group];
      let total = left.reduce((sum, t) => sum + t.weight, 0);
      while (left.length > 0) {
        let pick = random() * total;
        let i = 0;
        while (i < left.length - 1 && pick >= left[i].weight) pick -= left[i++].weight;
        total -= left[i].weight;
        out.push(left.splice(i, 1)[0]);
      }
    }
    return out;
  }
}

/**
 * The entry a request tries first: the lowest priority (default: the position in the
 * list), the first listed among equals — {@link TargetList.primary} before the providers
 * exist. A pass-through route without `provider` takes it as its provider, so the name
 * policy, pricing and the cache key see is the one that answers when all is well.
 */
export function firstChoice<E extends Pick<TargetEntry, 'priority'>>(entries: readonly E[]): E | undefined {
  let best: E | undefined;
  let bestPriority = Infinity;
  entries.forEach((e, index) => {
    const priority = e.priority ?? index;
    if (priority < bestPriority) {
      best = e;
      bestPriority = priority;
    }
  });
  return best;
}

/**
 * Compile a `targets:` list against the pipeline's providers. Returns the problems found
 * (unknown provider, one listed twice) instead of throwing, so config errors are reported together.
 */
export function compileTargets(entries: readonly TargetEntry[], slots: ReadonlyMap<string, ProviderSlot>): { list?: TargetList; problems: string[] } {
  const problems: string[] = [];
  const targets: Target[] = [];
  const seen = new Set<string>();
  entries.forEach((e, index) => {
    const slot = slots.get(e.provider);
    if (!slot) {
      problems.push(`target ${index} names provider "${e.provider}", which is not configured or not enabled`);
      return;
    }
    const key = `${e.provider}\u0000${e.model ?? ''}`;
    if (seen.has(key)) problems.push(`target ${index} repeats provider "${e.provider}"${e.model ? ` with model "${e.model}"` : ''}`);
    seen.add(key);
    targets.push({ name: slot.name, slot, model: e.model, weight: e.weight ?? 1, priority: e.priority ?? index });
  });
  return problems.length > 0 || targets.length === 0 ? { problems } : { list: new TargetList(targets), problems };
}
