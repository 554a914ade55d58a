/** Built-in providers by type name, imported on first use. */
import type { PluginCatalog } from '../core/index.js';

export const builtinProviders: PluginCatalog['providers'] = {
  echo: async () => (await import('./echo/index.js')).default,
};
