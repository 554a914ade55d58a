/** Built-in providers by type name, imported on first use. */
import type { PluginCatalog } from '../core/index.js';

export const builtinProviders: PluginCatalog['providers'] = {
  anthropic: async () => (await import('./anthropic/index.js')).default,
  bedrock: async () => (await import('./bedrock/index.js')).default,
  echo: async () => (await import('./echo/index.js')).default,
  gemini: async () => (await import('./gemini/index.js')).default,
  openai: async () => (await import('./openai/index.js')).default,
};
