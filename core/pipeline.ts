/**
 * Builds one complete, immutable pipeline from a validated config: plugins resolved and
 * their configs validated, filter and provider instances created, chains and the route
 * table compiled. A reload builds a new one beside the old and swaps; a request keeps the
 * pipeline it started on until it ends.
 */
import { compileSchema } from './config/ajv.js';
import { blankStrings, coercedBlanks, withBlanks } from './config/blank-values.js';
import { ConfigError, type ConfigIssue, type KeyPath } from './config/issues.js';
import type { LoadedConfig } from './config/load.js';
import type { FilterEntry } from './config/types.js';
import { Chain, type FilterSlot } from './chain.js';
import { plainDialect, type Dialect } from './dialect.js';
import type { Logger } from './logger.js';
import { checkEndpoints, createFilter, createProvider, errorText } from './plugin-create.js';
import { asFilterPlugin, asProviderPlugin, importPlugin, PLUGIN_TIME_LIMIT_MS, type PluginCatalog } from './plugins.js';
import { Router, type RouteMatcher } from './router.js';
import type { Filter, FilterPlugin, PluginEndpoint, PluginEnv, Provider, ProviderPlugin, RouteInfo } from './types.js';
import { checkModelsSection, compileUnified, IMPLICIT_UNIFIED_ROUTES } from './unified/compile.js';
import type { UnifiedEndpoint } from './unified/endpoint.js';
import { checkTargets, compileResilience, withPoolSettings, type Resilience } from './resilience/compile.js';
import type { RouteUpstream } from './resilience/executor.js';
import type { TargetEntry } from './resilience/config.js';
import { firstChoice } from './resilience/targets.js';

/** Core keys of a provider entry; the rest goes to the plugin. */
const PROVIDER_CORE_KEYS = new Set(['type', 'plugin', 'enabled', 'prefix', 'model_patterns', 'resilience']);

export interface ProviderSlot {
  readonly name: string;
  readonly type: string;
  readonly prefix: string;
  readonly provider: Provider;
}

export interface CompiledRoute {
  readonly info: RouteInfo;
  readonly chain: Chain;
  readonly provider: ProviderSlot | undefined;
  readonly dialect: Dialect;
  /** Set on unified routes: the endpoint that picks the provider by model. */
  readonly unified?: UnifiedEndpoint;
  /** Set on routes that call a provider: timeouts, retries, breakers and fallbacks around the call. */
  readonly upstream?: RouteUpstream;
}

/** The plugin modules a config names, resolved and with their configs validated; nothing created yet. */
export interface ResolvedPlugins {
  filters: Array<{ entry: FilterEntry; plugin: FilterPlugin<Record<string, unknown>>; path: KeyPath }>;
  providers: Array<{ name: string; type: string; config: Record<string, unknown>; plugin: ProviderPlugin<Record<string, unknown>>; prefix: string }>;
}

/** Resolve every plugin and validate every plugin config, collecting all problems; an import may take `timeLimitMs`. */
export async function resolvePlugins(loaded: LoadedConfig, catalog: PluginCatalog, timeLimitMs = PLUGIN_TIME_LIMIT_MS): Promise<ResolvedPlugins> {
  const { config, source } = loaded;
  const issues: ConfigIssue[] = [];
  const out: ResolvedPlugins = { filters: [], providers: [] };
  const builtin = prefetchBuiltins(loaded, catalog);

  for (const [name, entry] of Object.entries(config.providers)) {
    if (!entry.enabled) continue;
    const path = ['providers', name];
    const type = entry.type ?? name;
    try {
      const plugin = entry.plugin
        ? asProviderPlugin(await importPlugin(entry.plugin, loaded.dir, timeLimitMs), `providers.${name}.plugin "${entry.plugin}"`)
        : await builtin(catalog.providers, type, 'provider', asProviderPlugin);
      if (!plugin) {
        issues.push(source.issue(entry.type ? [...path, 'type'] : path, `unknown provider type "${type}" (built-in: ${Object.keys(catalog.providers).join(', ')}; or set "plugin" to a module)`));
        continue;
      }
      const pluginConfig: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entry)) if (!PROVIDER_CORE_KEYS.has(k)) pluginConfig[k] = v;
      if (!validatePluginConfig(plugin.configSchema, pluginConfig, path, loaded, issues)) continue;
      // A second instance of a type (`b: { type: a }`) gets its own prefix, not the type's default.
      const prefix = entry.prefix ?? (name === type || entry.plugin ? plugin.defaultPrefix : undefined) ?? `/v1/${name}`;
      out.providers.push({ name, type, config: pluginConfig, plugin, prefix });
    } catch (err) {
      issues.push(source.issue(entry.plugin ? [...path, 'plugin'] : path, errorText(err)));
    }
  }

  const seen = new Set<string>();
  for (let index = 0; index < config.filters.length; index++) {
    const entry = config.filters[index];
    const path: KeyPath = ['filters', index];
    if (seen.has(entry.name)) issues.push(source.issue([...path, 'name'], `duplicate filter name "${entry.name}"`));
    seen.add(entry.name);
    if (!entry.enabled) continue;
    try {
      const plugin = entry.plugin
        ? asFilterPlugin(await importPlugin(entry.plugin, loaded.dir, timeLimitMs), `filters[${index}].plugin "${entry.plugin}"`)
        : await builtin(catalog.filters, entry.name, 'filter', asFilterPlugin);
      if (!plugin) {
        issues.push(source.issue([...path, 'name'], `unknown filter "${entry.name}" (built-in: ${Object.keys(catalog.filters).join(', ') || 'none'}; or set "plugin" to a module)`));
        continue;
      }
      if (!validatePluginConfig(plugin.configSchema, entry.config, [...path, 'config'], loaded, issues)) continue;
      out.filters.push({ entry, plugin, path });
    } catch (err) {
      issues.push(source.issue(entry.plugin ? [...path, 'plugin'] : path, errorText(err)));
    }
  }

  config.routes.forEach((route, index) => {
    const path = ['routes', index];
    if (route.provider !== undefined && !out.providers.some((p) => p.name === route.provider) && !issues.some((i) => i.path.startsWith(`providers.${route.provider}`))) {
      issues.push(source.issue([...path, 'provider'], `route "${route.name}" names provider "${route.provider}", which is not configured or not enabled`));
    }
    if (route.mode === 'passthrough' && route.provider === undefined && !route.targets) {
      issues.push(source.issue(path, `pass-through route "${route.name}" needs a "provider"`));
    }
    for (const [filterName, override] of Object.entries(route.filters ?? {})) {
      const f = out.filters.find((x) => x.entry.name === filterName);
      if (!config.filters.some((x) => x.name === filterName)) {
        issues.push(source.issue([...path, 'filters'], `route "${route.name}" overrides filter "${filterName}", which is not in the filter chain`, filterName));
      } else if (f && typeof override === 'object') {
        validatePluginConfig(f.plugin.configSchema, { ...f.entry.config, ...override }, [...path, 'filters', filterName], loaded, issues);
      }
    }
  });

  checkModelsSection(loaded, new Set(out.providers.map((p) => p.name)), issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/**
 * A route that names a `provider` and lists `targets` sends requests to the targets in
 * their order, while its `provider` names the audit's provider and the response cache's
 * first choice. When the two differ the audit names the wrong target and the cache never
 * stores; refusing such configs would break ones that load today, so say it instead.
 */
function warnIfNotFirstTarget(route: string, provider: string, targets: readonly TargetEntry[], log: Logger): void {
  const first = firstChoice(targets)?.provider;
  if (first === undefined || first === provider) return;
  log.warn(`route "${route}" names provider "${provider}", which is not the target tried first ("${first}", by priority): the audit's provider names "${provider}" whichever target serves, and the response cache never stores its answers; drop "provider" (it defaults to the first target) or make it that target`, { route, provider, first_target: first });
}

type BuiltinLoader = <P>(table: Readonly<Record<string, () => unknown>>, name: string, kind: string, check: (value: unknown, origin: string) => P) => Promise<P | undefined>;

/**
 * Start importing every built-in plugin the config names, then hand them out one by one as
 * the checks ask. Node's module loader reads files off the main thread, so the imports of
 * a catalog that loads lazily overlap instead of queueing (the gateway's own catalog, in
 * its one bundle, reads no files: a loader only runs its plugin's module code). A failed
 * import is reported at its entry, as before; one the config does not name is not started.
 */
function prefetchBuiltins(loaded: LoadedConfig, catalog: PluginCatalog): BuiltinLoader {
  const started = new Map<() => unknown, Promise<unknown>>();
  const loaderOf = (table: Readonly<Record<string, () => unknown>>, name: string): (() => unknown) | undefined => (Object.hasOwn(table, name) ? table[name] : undefined);
  const start = (load: (() => unknown) | undefined): void => {
    if (!load || started.has(load)) return;
    const importing = Promise.resolve().then(load);
    importing.catch(() => {}); // awaited, and reported, where the entry is checked
    started.set(load, importing);
  };
  for (const [name, entry] of Object.entries(loaded.config.providers)) if (entry.enabled && !entry.plugin) start(loaderOf(catalog.providers, entry.type ?? name));
  for (const entry of loaded.config.filters) if (entry.enabled && !entry.plugin) start(loaderOf(catalog.filters, entry.name));
  return async (table, name, kind, check) => {
    const load = loaderOf(table, name);
    if (!load) return undefined;
    return check(await (started.get(load) ?? load()), `built-in ${kind} "${name}"`);
  };
}

function validatePluginConfig(schema: object | undefined, value: Record<string, unknown>, path: KeyPath, loaded: LoadedConfig, issues: ConfigIssue[]): boolean {
  if (!schema) return true;
  let validate;
  try {
    validate = compileSchema(schema);
  } catch (err) {
    issues.push(loaded.source.issue(path, `the plugin's configSchema does not compile: ${(err as Error).message}`));
    return false;
  }
  const blanks = blankStrings(value);
  const valid = validate(value);
  const found = withBlanks(coercedBlanks(value, blanks, path, loaded.source), valid ? [] : loaded.source.fromAjv(path, validate.errors ?? []));
  issues.push(...found);
  return found.length === 0;
}

export class Pipeline {
  readonly providers: ReadonlyMap<string, ProviderSlot>;
  readonly router: Router<CompiledRoute>;
  /** Chain for requests no route matched: they still get `onComplete` (the audit line). */
  readonly fallback: CompiledRoute;
  /** Chain for operational endpoints that need identity (`/v1/usage`). */
  readonly operational: CompiledRoute;
  /** Circuit states for the operational endpoints. */
  readonly resilience: Resilience | undefined;
  private readonly filters: ReadonlyArray<FilterSlot>;
  /** Endpoints the filters serve themselves (first one listed wins a path). */
  readonly endpoints: readonly PluginEndpoint[];
  private inFlight = 0;
  private retired = false;
  private drained: (() => void) | undefined;

  constructor(
    readonly loaded: LoadedConfig,
    readonly generation: number,
    parts: { providers: Map<string, ProviderSlot>; routes: Array<{ route: CompiledRoute; matcher: RouteMatcher }>; fallback: CompiledRoute; operational: CompiledRoute; filters: FilterSlot[]; resilience?: Resilience },
    private readonly log: Logger,
  ) {
    this.providers = parts.providers;
    this.router = new Router(parts.routes);
    this.fallback = parts.fallback;
    this.operational = parts.operational;
    this.filters = parts.filters;
    this.resilience = parts.resilience;
    this.endpoints = parts.filters.flatMap((s) => s.filter.endpoints ?? []);
  }

  get hash(): string {
    return this.loaded.hash;
  }

  acquire(): void {
    this.inFlight++;
  }

  release(): void {
    if (--this.inFlight === 0 && this.retired) this.drained?.();
  }

  get active(): number {
    return this.inFlight;
  }

  /** Stop taking requests; once the last in-flight one ends, close every filter and provider. */
  retire(): Promise<void> {
    this.retired = true;
    const done = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
    return done.then(() => this.close());
  }

  private async close(): Promise<void> {
    for (const slot of this.filters) {
      try {
        await slot.filter.close?.();
      } catch (err) {
        this.log.error('filter close failed', { filter: slot.name, err });
      }
    }
    for (const slot of this.providers.values()) {
      try {
        await slot.provider.close?.();
      } catch (err) {
        this.log.error('provider close failed', { provider: slot.name, err });
      }
    }
  }
}

export interface BuildOptions {
  loaded: LoadedConfig;
  catalog: PluginCatalog;
  generation: number;
  log: Logger;
  /** How long a plugin's import, and each create(), may take (default {@link PLUGIN_TIME_LIMIT_MS}). */
  timeLimitMs?: number;
  /** Makes the environment handed to each plugin. */
  envFor(scope: string, providers: ReadonlyMap<string, Provider>): PluginEnv;
}

export async function buildPipeline(opts: BuildOptions): Promise<Pipeline> {
  const { loaded, catalog, log } = opts;
  const limit = { ms: opts.timeLimitMs ?? PLUGIN_TIME_LIMIT_MS, log };
  const resolved = await resolvePlugins(loaded, catalog, limit.ms);
  const { config, source } = loaded;
  const created: FilterSlot[] = [];
  const instances = new Map<string, Provider>();
  const providers = new Map<string, ProviderSlot>();
  /** Run one entry's create and checks; what fails is reported at that entry, not at the file's start. */
  const atEntry = async <T>(path: KeyPath, make: () => Promise<T>): Promise<T> => {
    try {
      return await make();
    } catch (err) {
      throw err instanceof ConfigError ? err : new ConfigError([source.issue(path, errorText(err))]);
    }
  };

  try {
    for (const p of resolved.providers) {
      const env = withPoolSettings(opts.envFor(`provider:${p.name}`, instances), config.providers[p.name]?.resilience);
      const instance = await atEntry(['providers', p.name], async () => {
        return createProvider(p.name, () => p.plugin.create(p.config, env), limit);
      });
      instances.set(p.name, instance);
      providers.set(p.name, { name: p.name, type: p.type, prefix: p.prefix, provider: instance });
    }

    const targetIssues = checkTargets(loaded, providers);
    if (targetIssues.length > 0) throw new ConfigError(targetIssues);
    const resilience = compileResilience(loaded, providers, opts.envFor('core:resilience', instances));

    const base: FilterSlot[] = [];
    for (const f of resolved.filters) {
      const filter = await atEntry(f.path, async () => {
        const filter = await createFilter(f.entry.name, () => f.plugin.create(f.entry.config, opts.envFor(`filter:${f.entry.name}`, instances)), limit);
        checkEndpoints(f.entry.name, filter.endpoints);
        return filter;
      });
      base.push({ name: f.entry.name, filter });
      created.push({ name: f.entry.name, filter });
    }
    const byName = new Map(resolved.filters.map((f, i) => [f.entry.name, { resolved: f, slot: base[i] }]));

    const chainFor = async (routeIndex: number, overrides: Record<string, boolean | Record<string, unknown>> | undefined): Promise<Chain> => {
      if (!overrides) return defaultChain;
      const slots: FilterSlot[] = [];
      for (const [name, { resolved: f, slot }] of byName) {
        const o = overrides[name];
        if (o === false) continue;
        if (o === undefined || o === true) {
          slots.push(slot);
          continue;
        }
        const merged = { ...f.entry.config, ...o };
        compileSchema(f.plugin.configSchema ?? {})(merged); // apply defaults; validated in resolvePlugins
        const filter = await atEntry(['routes', routeIndex, 'filters', name], () => createFilter(name, () => f.plugin.create(merged, opts.envFor(`filter:${name}`, instances)), limit));
        created.push({ name, filter });
        slots.push({ name, filter });
      }
      return new Chain(slots, log);
    };
    const defaultChain = new Chain(base, log);

    const unifiedFor = compileUnified(loaded, { slots: providers, plugins: resolved.providers });
    const unifiedDialect = catalog.unifiedDialect ?? plainDialect;
    const routes: Array<{ route: CompiledRoute; matcher: RouteMatcher }> = [];
    for (const [index, r] of config.routes.entries()) {
      const providerName = r.provider ?? (r.mode === 'passthrough' && r.targets ? firstChoice(r.targets)?.provider : undefined);
      if (r.provider !== undefined && r.targets) warnIfNotFirstTarget(r.name, r.provider, r.targets, log);
      const slot = providerName === undefined ? undefined : providers.get(providerName);
      const info: RouteInfo = { name: r.name, mode: r.mode, provider: providerName, prefix: r.match.prefix };
      if (r.mode === 'unified' && !unifiedFor) throw new ConfigError([source.issue(['routes', index, 'mode'], `unified route "${r.name}" needs a provider that serves chat completions; none of the configured ones does`)]);
      const unified = r.mode === 'unified' ? { unified: unifiedFor!(r.provider), provider: undefined, dialect: unifiedDialect, upstream: resilience.forRoute(r, undefined) } : undefined;
      const upstream = slot ? resilience.forRoute(r, slot) : undefined;
      routes.push({
        route: { info, chain: await chainFor(index, r.filters), provider: slot, dialect: slot?.provider.dialect ?? plainDialect, upstream, ...unified },
        matcher: {
          prefix: r.match.prefix,
          path: r.match.path,
          methods: r.match.methods ? new Set(r.match.methods) : undefined,
          headers: r.match.headers ? Object.entries(r.match.headers).map(([k, v]) => [k.toLowerCase(), v] as const) : undefined,
        },
      });
    }
    if (unifiedFor) {
      const unified = unifiedFor();
      for (const { name, matcher } of IMPLICIT_UNIFIED_ROUTES) {
        routes.push({ route: { info: { name, mode: 'unified' }, chain: defaultChain, provider: undefined, dialect: unifiedDialect, unified, upstream: resilience.forRoute(undefined, undefined) }, matcher });
      }
    }
    const implicit = [...providers.values()].sort((a, b) => b.prefix.length - a.prefix.length);
    for (const slot of implicit) {
      routes.push({
        route: { info: { name: slot.name, mode: 'passthrough', provider: slot.name, prefix: slot.prefix }, chain: defaultChain, provider: slot, dialect: slot.provider.dialect, upstream: resilience.forRoute(undefined, slot) },
        matcher: { prefix: slot.prefix },
      });
    }

    const fallback: CompiledRoute = { info: { name: 'unmatched', mode: 'operational' }, chain: defaultChain, provider: undefined, dialect: plainDialect };
    const operational: CompiledRoute = { info: { name: 'usage', mode: 'operational' }, chain: defaultChain, provider: undefined, dialect: plainDialect };
    return new Pipeline(loaded, opts.generation, { providers, routes, fallback, operational, filters: created, resilience }, log);
  } catch (err) {
    // Undo what was created so a failed reload leaks nothing.
    for (const slot of created) await Promise.resolve(slot.filter.close?.()).catch(() => {});
    for (const p of instances.values()) await Promise.resolve(p.close?.()).catch(() => {});
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([source.issue([], errorText(err))]);
  }
}

export type { Filter };
