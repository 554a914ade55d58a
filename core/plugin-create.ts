/**
 * A plugin's `create()` as a config build runs it: within the time limit, and its instance
 * checked for the hooks and shapes the gateway will call, so a plugin's mistake fails the
 * load with its name rather than a request later.
 */
import type { Logger } from './logger.js';
import { checkInstance, PLUGIN_TIME_LIMIT_ENV, PluginLoadError, PluginTimeLimitError, withinTimeLimit } from './plugins.js';
import type { Filter, PluginEndpoint, Provider } from './types.js';

const FILTER_HOOKS = ['onRequest', 'onResponse', 'onComplete', 'close', 'usage'] as const;
const PROVIDER_HOOKS = ['models', 'health', 'inspect', 'passthrough', 'chat', 'close', 'describe'] as const;

/** How long a create() may take, and where a late one is reported. */
export interface CreateLimit {
  readonly ms: number;
  readonly log: Logger;
}

/** Absent, or a list of non-empty lists of member names (a JS plugin's mistake is caught at load, not per request). */
/** An HTTP header name (RFC 9110 token characters). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function memberPaths(paths: unknown): boolean {
  return paths === undefined || (Array.isArray(paths) && paths.every((p) => Array.isArray(p) && p.length > 0 && p.every((m) => typeof m === 'string')));
}

export function errorText(err: unknown): string {
  return err instanceof PluginLoadError || err instanceof Error ? err.message : String(err);
}

export function checkEndpoints(name: string, endpoints: unknown): void {
  if (endpoints === undefined) return;
  const ok = Array.isArray(endpoints) && endpoints.every((e: PluginEndpoint) => typeof e?.path === 'string' && e.path.startsWith('/') && typeof e.handle === 'function');
  if (!ok) throw new PluginLoadError(`filter "${name}": "endpoints" must be an array of { path: "/…", handle() }`);
}

/**
 * `create()`, within the time limit. One that finishes after it has its instance closed
 * (it belongs to a build that was given up); one that never finishes is left behind.
 */
async function createChecked<T>(kind: 'filter' | 'provider', name: string, create: () => T | Promise<T>, hooks: readonly string[], limit: CreateLimit): Promise<T> {
  let instance: T;
  try {
    const closeLate = (late: T): void => {
      limit.log.warn(`a ${kind}'s create() finished after the time limit; closing what it made`, { [kind]: name, limit_ms: limit.ms });
      Promise.resolve()
        .then(() => (late as { close?: () => unknown } | null)?.close?.())
        .catch((err: unknown) => limit.log.error(`${kind} close failed`, { [kind]: name, err }));
    };
    instance = await withinTimeLimit(Promise.resolve(create()), limit.ms, () => `did not finish within ${limit.ms} ms; ${PLUGIN_TIME_LIMIT_ENV} sets the limit`, closeLate);
  } catch (err) {
    if (err instanceof PluginTimeLimitError) throw new PluginTimeLimitError(`${kind} "${name}": create() ${err.message}`);
    throw new PluginLoadError(`${kind} "${name}": create() failed: ${errorText(err)}`);
  }
  checkInstance(kind, name, instance, hooks);
  return instance;
}

/** A filter's create(), checked: its hooks and endpoints. */
export function createFilter(name: string, create: () => Filter | Promise<Filter>, limit: CreateLimit): Promise<Filter> {
  return createChecked('filter', name, create, FILTER_HOOKS, limit);
}

/** A provider's create(), checked: its hooks, the members every route calls, its dialect's paths. */
export async function createProvider(name: string, create: () => Provider | Promise<Provider>, limit: CreateLimit): Promise<Provider> {
  const instance = await createChecked('provider', name, create, PROVIDER_HOOKS, limit);
  if (typeof instance.models !== 'function' || typeof instance.health !== 'function' || typeof instance.dialect?.renderError !== 'function') {
    throw new PluginLoadError(`provider "${name}": create() must return a Provider with models(), health() and a dialect with renderError()`);
  }
  if (!memberPaths(instance.dialect.temperaturePaths)) {
    throw new PluginLoadError(`provider "${name}": dialect.temperaturePaths must be a list of member paths, e.g. [['generationConfig', 'temperature']]`);
  }
  const { cacheConverter, isWholeStream, isRefusal, cacheKeyHeaders, cacheUnkeyedFields } = instance.dialect;
  if (cacheConverter !== undefined && (typeof cacheConverter?.toSse !== 'function' || typeof cacheConverter.toJson !== 'function')) {
    throw new PluginLoadError(`provider "${name}": dialect.cacheConverter must have toSse() and toJson()`);
  }
  if (isWholeStream !== undefined && typeof isWholeStream !== 'function') {
    throw new PluginLoadError(`provider "${name}": dialect.isWholeStream must be a function (sse) => boolean`);
  }
  if (isRefusal !== undefined && typeof isRefusal !== 'function') {
    throw new PluginLoadError(`provider "${name}": dialect.isRefusal must be a function (body, mode) => boolean`);
  }
  if (cacheKeyHeaders !== undefined && !(Array.isArray(cacheKeyHeaders) && cacheKeyHeaders.every((h) => typeof h === 'string' && HEADER_NAME.test(h)))) {
    throw new PluginLoadError(`provider "${name}": dialect.cacheKeyHeaders must be a list of header names, e.g. ['openai-beta']`);
  }
  if (cacheUnkeyedFields !== undefined && !(Array.isArray(cacheUnkeyedFields) && cacheUnkeyedFields.every((f) => typeof f === 'string' && f.length > 0))) {
    throw new PluginLoadError(`provider "${name}": dialect.cacheUnkeyedFields must be a list of top-level body field names, e.g. ['metadata']`);
  }
  return instance;
}
