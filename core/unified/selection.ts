/**
 * The one table that picks a provider for a model on the unified endpoint. Compiled once
 * per config generation, in this order, first match wins:
 *   1. `models.aliases` (exact names; they also rename the model sent upstream),
 *   2. `models.rules` (globs, in config order),
 *   3. each provider in config order: the model ids and aliases its `models()` lists,
 *      then its patterns (the entry's `model_patterns`, else the plugin's `modelPatterns`).
 * `X-Provider` (or a route pinned to a provider) skips the table and names the provider.
 */
import { GatewayError } from '../errors.js';
import { compileGlob, type GlobMatcher } from '../glob.js';
import type { ModelsSection } from '../config/types.js';
import type { ProviderSlot } from '../pipeline.js';
import { compileTargets, TargetList } from '../resilience/targets.js';

/** Where a model goes: the provider slot and the model id to send it. */
export interface Selection {
  /** The first choice; the one policy filters see as `ctx.provider`. */
  readonly slot: ProviderSlot;
  /** The model sent to a target that names none. */
  readonly model: string;
  /** Where to try, in order: an alias's `targets`, or just `slot`. */
  readonly targets: TargetList;
}

/** One provider's entry in the table, in config order. */
export interface ProviderPatterns {
  readonly slot: ProviderSlot;
  readonly patterns: readonly string[];
}

interface Entry {
  /** Exact name, or a compiled glob. */
  readonly match: string | GlobMatcher;
  readonly slot: ProviderSlot;
  /** The model sent upstream; the client's when absent. */
  readonly model?: string;
  readonly targets: TargetList;
}

export class ModelTable {
  private readonly entries: Entry[] = [];
  private readonly slots: ReadonlyMap<string, ProviderSlot>;
  private readonly aliases: ModelsSection['aliases'];
  /** One single-target list per provider, made once. */
  private readonly singles = new Map<string, TargetList>();

  /** Provider names in `section` are assumed checked (see `checkModelsSection`); unknown ones are skipped. */
  constructor(section: ModelsSection | undefined, providers: readonly ProviderPatterns[]) {
    this.slots = new Map(providers.map((p) => [p.slot.name, p.slot]));
    this.aliases = section?.aliases ?? {};
    for (const [name, alias] of Object.entries(this.aliases)) {
      if (alias.targets) {
        // Checked when the pipeline is built; a list that does not compile is left out.
        const list = compileTargets(alias.targets, this.slots).list;
        if (list) this.entries.push({ match: name, slot: list.primary.slot, model: list.primary.model, targets: list });
        continue;
      }
      const slot = this.slots.get(alias.provider);
      if (slot) this.entries.push({ match: name, slot, model: alias.model, targets: this.single(slot) });
    }
    for (const rule of section?.rules ?? []) {
      const slot = this.slots.get(rule.provider);
      if (slot) this.entries.push({ match: compileGlob(rule.match), slot, targets: this.single(slot) });
    }
    for (const { slot, patterns } of providers) {
      const targets = this.single(slot);
      for (const m of slot.provider.models()) {
        this.entries.push({ match: m.id, slot, targets });
        for (const a of m.aliases ?? []) this.entries.push({ match: a, slot, model: m.id, targets });
      }
      for (const p of patterns) this.entries.push({ match: compileGlob(p), slot, targets });
    }
  }

  /**
   * The provider for `model`. `forced` is an `X-Provider` value or a route's pinned
   * provider: an instance name, or a provider type with exactly one instance.
   * @throws GatewayError 404 `GW_ERR_MODEL_NOT_FOUND` when nothing serves `model`; 400 for an unknown `forced`.
   */
  select(model: string, forced: string | undefined): Selection {
    if (forced !== undefined) {
      const slot = this.byName(forced);
      const alias = Object.hasOwn(this.aliases, model) ? this.aliases[model] : undefined;
      const renamed = alias?.targets ? alias.targets.find((t) => t.provider === slot.name)?.model : alias?.provider === slot.name ? alias.model : undefined;
      return { slot, model: renamed ?? model, targets: this.single(slot) };
    }
    for (const e of this.entries) {
      if (typeof e.match === 'string' ? e.match === model : e.match(model)) return { slot: e.slot, model: e.model ?? model, targets: e.targets };
    }
    throw new GatewayError('GW_ERR_MODEL_NOT_FOUND', `The model \`${model}\` does not exist on this gateway. GET /v1/models lists the models it serves; X-Provider: <name> sends any model to a named provider.`, { param: 'model' });
  }

  private single(slot: ProviderSlot): TargetList {
    let list = this.singles.get(slot.name);
    if (!list) this.singles.set(slot.name, (list = TargetList.single(slot)));
    return list;
  }

  private byName(name: string): ProviderSlot {
    const slot = this.slots.get(name);
    if (slot) return slot;
    const ofType = [...this.slots.values()].filter((s) => s.type === name);
    if (ofType.length === 1) return ofType[0];
    const known = [...this.slots.keys()].join(', ');
    const why = ofType.length > 1 ? `several providers are of type "${name}"; name one of them` : `no provider is named "${name}"`;
    throw new GatewayError('GW_ERR_REQUEST_INVALID', `X-Provider: ${why} (configured: ${known})`);
  }
}
