/**
 * Building the resilience layer for one config generation: each provider's `resilience`
 * block resolved, each route's override merged over it, every `targets:` list checked
 * against the providers, and the runtime's registry (breakers, budgets) looked up in
 * shared state so it carries over from the previous generation.
 */
import type { ConfigIssue } from '../config/issues.js';
import type { LoadedConfig } from '../config/load.js';
import type { RouteEntry } from '../config/types.js';
import type { ProviderSlot } from '../pipeline.js';
import type { PluginEnv } from '../types.js';
import { resolvePolicy, type ResilienceConfig, type UpstreamPolicy } from './config.js';
import { RouteUpstream } from './executor.js';
import { ResilienceRegistry } from './registry.js';
import { compileTargets, firstChoice, TargetList } from './targets.js';

const REGISTRY_KEY = 'core.resilience.registry';

/**
 * A provider's env whose pools follow the entry's pool settings: connect within
 * `resilience.timeouts.connect_ms`, open at most `resilience.max_connections` per origin.
 * The operator's numbers win over what the plugin asks for.
 */
export function withPoolSettings(env: PluginEnv, resilience: ResilienceConfig | undefined): PluginEnv {
  const connectMs = resilience?.timeouts?.connect_ms;
  const connections = resilience?.max_connections;
  if (connectMs === undefined && connections === undefined) return env;
  return {
    ...env,
    upstream: (origin, options) =>
      env.upstream(origin, {
        ...options,
        ...(connectMs === undefined ? {} : { connectTimeoutMs: connectMs }),
        ...(connections === undefined ? {} : { connections }),
      }),
  };
}

/** The pipeline's resilience: route upstreams, and circuit states for `/health` and `/v1/providers`. */
export class Resilience {
  private readonly base: ReadonlyMap<string, UpstreamPolicy>;
  private readonly plainUpstreams = new Map<string, RouteUpstream>();
  private unifiedDefault: RouteUpstream | undefined;

  constructor(
    private readonly registry: ResilienceRegistry,
    private readonly loaded: LoadedConfig,
    private readonly slots: ReadonlyMap<string, ProviderSlot>,
  ) {
    const base = new Map<string, UpstreamPolicy>();
    for (const slot of slots.values()) {
      const policy = resolvePolicy(loaded.config.providers[slot.name]?.resilience, undefined);
      base.set(slot.name, policy);
      if (policy.breaker) registry.declare(slot.name);
    }
    this.base = base;
  }

  /**
   * The upstream of a route: a configured one (its override, its targets) or an implicit
   * pass-through route to `slot`. Unified routes pass no slot: targets come per request.
   */
  forRoute(entry: RouteEntry | undefined, slot: ProviderSlot | undefined): RouteUpstream {
    if (!entry?.resilience && !entry?.targets) {
      if (!slot) return (this.unifiedDefault ??= new RouteUpstream(this.registry, this.base, undefined));
      let upstream = this.plainUpstreams.get(slot.name);
      if (!upstream) this.plainUpstreams.set(slot.name, (upstream = new RouteUpstream(this.registry, this.base, TargetList.single(slot))));
      return upstream;
    }
    const policies = new Map<string, UpstreamPolicy>();
    for (const name of this.slots.keys()) policies.set(name, resolvePolicy(this.loaded.config.providers[name]?.resilience, entry.resilience));
    const targets = entry.targets ? compileTargets(entry.targets, this.slots).list : slot && TargetList.single(slot);
    return new RouteUpstream(this.registry, policies, targets);
  }

  /** The circuit of provider `name` as `/health` shows it; undefined when it has no breaker. */
  circuit(name: string): Record<string, unknown> | undefined {
    const settings = this.base.get(name)?.breaker;
    return settings && this.registry.target(name).breaker.snapshot(settings);
  }
}

/** Make the pipeline's {@link Resilience}, with the registry from the runtime's shared state. */
export function compileResilience(loaded: LoadedConfig, slots: ReadonlyMap<string, ProviderSlot>, env: PluginEnv): Resilience {
  const registry = env.shared.get(REGISTRY_KEY, () => new ResilienceRegistry(env.metrics, env.log));
  return new Resilience(registry, loaded, slots);
}

/** Config issues of every `targets:` list; run once the providers exist. */
export function checkTargets(loaded: LoadedConfig, slots: ReadonlyMap<string, ProviderSlot>): ConfigIssue[] {
  const { config, source } = loaded;
  const issues: ConfigIssue[] = [];
  config.routes.forEach((route, index) => {
    if (!route.targets) return;
    const path = ['routes', index, 'targets'];
    if (route.mode === 'unified') {
      issues.push(source.issue(path, `route "${route.name}": targets apply to pass-through routes; on the unified endpoint give a model alias targets`));
      return;
    }
    const { list, problems } = compileTargets(route.targets, slots);
    for (const p of problems) issues.push(source.issue(path, `route "${route.name}": ${p}`));
    if (!list) return;
    const main = slots.get(route.provider ?? firstChoice(route.targets)!.provider);
    route.targets.forEach((t, i) => {
      const slot = slots.get(t.provider);
      if (!slot || !main) return;
      if (slot.type !== main.type) issues.push(source.issue([...path, i, 'provider'], `route "${route.name}": target "${t.provider}" is of type ${slot.type}, the route's provider "${main.name}" of type ${main.type}; pass-through targets must speak the same API`));
      if (t.model !== undefined) issues.push(source.issue([...path, i, 'model'], `route "${route.name}": pass-through targets forward the client's body as it is; "model" applies to model alias targets`));
      if (!slot.provider.passthrough) issues.push(source.issue([...path, i, 'provider'], `route "${route.name}": provider "${t.provider}" has no pass-through API`));
    });
  });
  for (const [alias, entry] of Object.entries(config.models?.aliases ?? {})) {
    if (!entry.targets) continue;
    const path = ['models', 'aliases', alias, 'targets'];
    const { problems } = compileTargets(entry.targets, slots);
    for (const p of problems) issues.push(source.issue(path, `alias "${alias}": ${p}`));
    entry.targets.forEach((t, i) => {
      const slot = slots.get(t.provider);
      if (slot && !slot.provider.chat) issues.push(source.issue([...path, i, 'provider'], `alias "${alias}": provider "${t.provider}" (type ${slot.type}) does not serve chat completions`));
    });
  }
  return issues;
}
