/** Built-in filters by name, imported on first use. */
import type { PluginCatalog } from '../core/index.js';

export const builtinFilters: PluginCatalog['filters'] = {
  'rate-limit': async () => (await import('./rate-limit/index.js')).default,
  auth: async () => (await import('./auth/index.js')).default,
  audit: async () => (await import('./audit/index.js')).default,
  validator: async () => (await import('./validator/index.js')).default,
  cache: async () => (await import('./cache/index.js')).default,
  network: async () => (await import('./network/index.js')).default,
  cost: async () => (await import('./cost/index.js')).default,
  budget: async () => (await import('./budget/index.js')).default,
  guardrails: async () => (await import('./guardrails/index.js')).default,
  admin: async () => (await import('./admin/index.js')).default,
};
