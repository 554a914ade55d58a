/** Built-in filters by name, imported on first use. */
import type { PluginCatalog } from '../core/index.js';

export const builtinFilters: PluginCatalog['filters'] = {
  'rate-limit': async () => (await import('./rate-limit/index.js')).default,
};
