/**
 * Built-in providers by type name. Imported statically, like the built-in filters (see
 * `filters/index.ts`); the AWS SDK pieces Bedrock signs and finds credentials with still
 * import when first used.
 */
import type { PluginCatalog } from '../core/index.js';
import anthropic from './anthropic/index.js';
import bedrock from './bedrock/index.js';
import echo from './echo/index.js';
import gemini from './gemini/index.js';
import openai from './openai/index.js';

export const builtinProviders: PluginCatalog['providers'] = {
  anthropic: async () => anthropic,
  bedrock: async () => bedrock,
  echo: async () => echo,
  gemini: async () => gemini,
  openai: async () => openai,
};
