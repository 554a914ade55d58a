/**
 * Built-in filters by name, each loaded when a config first names it: in the built bundle
 * an `import()` of a bundled module only runs its module code then, so a chain of four
 * filters does not set up the other six at start (as `providers/index.ts` does for
 * providers). The packages some of them need (ioredis, the ledgers' SQLite and Postgres,
 * the AWS SDK) load later still, when first used.
 */
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
