/**
 * Building the unified endpoint for one config generation: the `models:` section checked
 * against the providers, the model table compiled, and the implicit routes
 * (`POST /v1/chat/completions`, `GET /v1/models[/<id>]`) that exist whenever a provider can chat.
 */
import type { ConfigIssue } from '../config/issues.js';
import type { LoadedConfig } from '../config/load.js';
import type { ProviderSlot } from '../pipeline.js';
import type { RouteMatcher } from '../router.js';
import type { ProviderPlugin } from '../types.js';
import { UnifiedEndpoint } from './endpoint.js';
import { ModelTable } from './selection.js';

/** Where the unified endpoint answers when no explicit `mode: unified` route says otherwise. */
export const IMPLICIT_UNIFIED_ROUTES: ReadonlyArray<{ name: string; matcher: RouteMatcher }> = [
  { name: 'unified', matcher: { path: '/v1/chat/completions' } },
  { name: 'unified-models', matcher: { prefix: '/v1/models', methods: new Set(['GET', 'HEAD']) } },
];

/** Config issues of the `models:` section and of unified routes: every provider they name must exist. */
export function checkModelsSection(loaded: LoadedConfig, providers: ReadonlySet<string>, issues: ConfigIssue[]): void {
  const { config, source } = loaded;
  const known = (name: string): boolean => providers.has(name) || issues.some((i) => i.path.startsWith(`providers.${name}`));
  const hint = `configured: ${[...providers].join(', ') || 'none'}`;
  for (const [alias, target] of Object.entries(config.models?.aliases ?? {})) {
    if (target.targets) {
      target.targets.forEach((t, i) => {
        if (!known(t.provider)) issues.push(source.issue(['models', 'aliases', alias, 'targets', i, 'provider'], `alias "${alias}" names provider "${t.provider}", which is not configured or not enabled (${hint})`));
      });
    } else if (!known(target.provider)) {
      issues.push(source.issue(['models', 'aliases', alias, 'provider'], `alias "${alias}" names provider "${target.provider}", which is not configured or not enabled (${hint})`));
    }
  }
  (config.models?.rules ?? []).forEach((rule, index) => {
    if (!known(rule.provider)) issues.push(source.issue(['models', 'rules', index, 'provider'], `rule "${rule.match}" names provider "${rule.provider}", which is not configured or not enabled (${hint})`));
  });
}

export interface UnifiedProviders {
  readonly slots: ReadonlyMap<string, ProviderSlot>;
  /** Each enabled provider's plugin, in config order, for its default model patterns. */
  readonly plugins: ReadonlyArray<{ name: string; plugin: ProviderPlugin<Record<string, unknown>> }>;
}

/** Makes the unified endpoint for a route (pinned to a provider or not); undefined when no provider can chat. */
export function compileUnified(loaded: LoadedConfig, providers: UnifiedProviders): ((pin?: string) => UnifiedEndpoint) | undefined {
  const slots = providers.plugins.map((p) => providers.slots.get(p.name)).filter((s): s is ProviderSlot => s !== undefined);
  if (!slots.some((s) => typeof s.provider.chat === 'function')) return undefined;
  const section = loaded.config.models;
  const table = new ModelTable(
    section,
    providers.plugins.flatMap((p) => {
      const slot = providers.slots.get(p.name);
      if (!slot) return [];
      const entry = loaded.config.providers[p.name];
      return [{ slot, patterns: entry?.model_patterns ?? p.plugin.modelPatterns ?? [] }];
    }),
  );
  const listed = slots.filter((s) => s.provider.chat && s.provider.configured).map((s) => ({ name: s.name, models: s.provider.models() }));
  // An alias with targets is listed under the first of them that can serve it.
  const aliases = Object.entries(section?.aliases ?? {}).map(([name, a]) => ({ name, provider: a.targets ? (a.targets.find((t) => listed.some((l) => l.name === t.provider)) ?? a.targets[0]).provider : a.provider }));
  const created = Math.floor(loaded.loadedAt.getTime() / 1000);
  const shared = new UnifiedEndpoint({ table, listed, aliases, created });
  return (pin) => (pin === undefined ? shared : new UnifiedEndpoint({ table, listed, aliases, created, pin }));
}
