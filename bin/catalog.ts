/** The built-in plugins, wired here so core never names a provider or filter. */
import type { PluginCatalog } from '../core/index.js';
import { builtinFilters } from '../filters/index.js';
import { builtinProviders } from '../providers/index.js';
import { openaiDialect } from '../providers/openai/dialect.js';

export const builtinCatalog: PluginCatalog = { filters: builtinFilters, providers: builtinProviders, unifiedDialect: openaiDialect };
