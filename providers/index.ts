/**
 * Built-in providers by type name, each loaded when a config first names it: in the built
 * bundle an `import()` of a bundled module only runs its module code then, so a config
 * with one provider does not set up the other four at start (their ~40 modules). The AWS
 * SDK pieces Bedrock signs and finds credentials with import later still, when first used.
 */
import type { PluginCatalog } from '../core/index.js';

export const builtinProviders: PluginCatalog['providers'] = {
  anthropic: async () => (await import('./anthropic/index.js')).default,
  bedrock: async () => (await import('./bedrock/index.js')).default,
  echo: async () => (await import('./echo/index.js')).default,
  gemini: async () => (await import('./gemini/index.js')).default,
  openai: async () => (await import('./openai/index.js')).default,
};
