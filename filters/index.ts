/**
 * Built-in filters by name, imported statically: every start runs their module code, used
 * or not. (This dates from when an on-demand import cost a chunk file of its own; in the
 * one CommonJS bundle it no longer does, and `providers/index.ts` now loads on demand. The
 * same for filters is not yet measured.) The packages some of them need (ioredis, the
 * ledgers' SQLite and Postgres, the AWS SDK) still load when first used.
 */
import type { PluginCatalog } from '../core/index.js';
import admin from './admin/index.js';
import audit from './audit/index.js';
import auth from './auth/index.js';
import budget from './budget/index.js';
import cache from './cache/index.js';
import cost from './cost/index.js';
import guardrails from './guardrails/index.js';
import network from './network/index.js';
import rateLimit from './rate-limit/index.js';
import validator from './validator/index.js';

export const builtinFilters: PluginCatalog['filters'] = {
  'rate-limit': async () => rateLimit,
  auth: async () => auth,
  audit: async () => audit,
  validator: async () => validator,
  cache: async () => cache,
  network: async () => network,
  cost: async () => cost,
  budget: async () => budget,
  guardrails: async () => guardrails,
  admin: async () => admin,
};
