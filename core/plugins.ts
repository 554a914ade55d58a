/**
 * Finding plugins: built-ins come from catalogues the caller hands in (core names none),
 * external ones are imported by module path or package name and checked against the
 * contract with a message that says what to fix.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dialect } from './dialect.js';
import { dynamicImport } from './dynamic-import.js';
import { resolveOwnPackageFor } from './own-package.js';
import { PLUGIN_API_VERSION, type FilterPlugin, type ProviderPlugin } from './types.js';

export type PluginLoader<P> = () => P | Promise<P>;

/** Built-in plugins by name, loaded on first use. */
export interface PluginCatalog {
  filters: Readonly<Record<string, PluginLoader<FilterPlugin<never>>>>;
  providers: Readonly<Record<string, PluginLoader<ProviderPlugin<never>>>>;
  /** The error dialect of the unified chat endpoint (OpenAI's); without it errors there are plain JSON. */
  unifiedDialect?: Dialect;
}

export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginLoadError';
  }
}

/** A plugin's import or create() that did not finish within {@link PLUGIN_TIME_LIMIT_MS}. */
export class PluginTimeLimitError extends PluginLoadError {
  constructor(message: string) {
    super(message);
    this.name = 'PluginTimeLimitError';
  }
}

/**
 * How long a plugin's import (its top-level code) and its `create()` may take. Reloads run
 * one after another: without a limit, one that never settles would hold back every later
 * reload (and start-up, and `ai-gateway validate`) for good, logging nothing.
 */
export const PLUGIN_TIME_LIMIT_MS = 30_000;

/** Sets {@link PLUGIN_TIME_LIMIT_MS} otherwise, in milliseconds. */
export const PLUGIN_TIME_LIMIT_ENV = 'AI_GATEWAY_PLUGIN_TIMEOUT_MS';

/** The limit `env` sets, else the default; a value that is not a positive whole number is refused. */
export function pluginTimeLimit(env: NodeJS.ProcessEnv): number {
  const raw = env[PLUGIN_TIME_LIMIT_ENV];
  if (raw === undefined || raw === '') return PLUGIN_TIME_LIMIT_MS;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`${PLUGIN_TIME_LIMIT_ENV} must be a whole number of milliseconds above 0, got "${raw}"`);
  return ms;
}

/**
 * `work`, or a rejection with `message` once `ms` pass first. What `work` gives after that
 * goes to `late` (a created instance to close); nothing can stop the work itself.
 */
export function withinTimeLimit<T>(work: Promise<T>, ms: number, message: () => string, late?: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new PluginTimeLimitError(message()));
    }, ms);
  });
  work.then(
    (value) => {
      if (timedOut) late?.(value);
    },
    () => {}, // after the limit, its failure has no one to go to; before it, the race reports it
  );
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Each entry file's content hash when it was first imported, by path. */
const firstVersions = new Map<string, string>();

/**
 * The file URL of a plugin's entry file, versioned by its content. Node keeps every module it
 * imported, and a failed import too, by URL for the life of the process: importing the same
 * URL again gives the old code back. A file's first version is imported by its plain URL, so
 * it is the one module anything else importing that file gets (its module-level state is
 * shared as before); a later, edited (or fixed) version carries the sha256 of its bytes in
 * the query and is imported anew, and an unchanged one reuses its module. Only this file is
 * compared: what it imports itself keeps the URL it was first loaded by.
 */
function versionedUrl(file: string): string {
  const url = pathToFileURL(file);
  let version: string;
  try {
    version = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  } catch {
    return url.href; // unreadable or missing: import() says so in its own words
  }
  const first = firstVersions.get(file);
  if (first === undefined) firstVersions.set(file, version);
  else if (version !== first) url.search = `sha256=${version}`;
  return url.href;
}

/**
 * Imports that outlived the time limit and have not settled yet, with the reason given, by
 * URL. Node hands the same unsettled import back for the same URL, so waiting for it again
 * would only hold each later reload for the whole limit; it fails at once instead. An edited
 * file has another URL ({@link versionedUrl}) and is imported anew; once the import settles
 * its URL is forgotten here, and Node's answer (the module or its error) comes back at once.
 */
const overdueImports = new Map<string, string>();

function rememberOverdue(url: string, work: Promise<unknown>, reason: string): void {
  overdueImports.set(url, reason);
  work.then(
    () => overdueImports.delete(url),
    () => overdueImports.delete(url),
  );
}

/** Import a plugin module named in the config, resolved against the config's directory. */
export async function importPlugin(specifier: string, configDir: string, timeLimitMs = PLUGIN_TIME_LIMIT_MS): Promise<unknown> {
  let file: string | undefined;
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    file = path.resolve(configDir, specifier);
  } else {
    try {
      file = createRequire(path.join(configDir, 'config.yaml')).resolve(specifier);
    } catch {
      // ESM-only packages: let import() resolve from the gateway's own node_modules
    }
  }
  const url = file === undefined ? specifier : versionedUrl(file);
  resolveOwnPackageFor(file);
  const overdue = overdueImports.get(url);
  if (overdue !== undefined) throw new PluginLoadError(`cannot import plugin "${specifier}": ${overdue}`);
  const work = dynamicImport(url);
  let mod: Record<string, unknown>;
  try {
    mod = (await withinTimeLimit(work, timeLimitMs, () => `its import did not finish within ${timeLimitMs} ms (a top-level await that never settles?); ${PLUGIN_TIME_LIMIT_ENV} sets the limit`)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof PluginTimeLimitError) rememberOverdue(url, work, err.message);
    throw new PluginLoadError(`cannot import plugin "${specifier}": ${(err as Error).message}`);
  }
  return mod.default ?? mod;
}

type Kind = 'filter' | 'provider';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  return typeof value;
}

function checkCommon(kind: Kind, value: unknown, origin: string): asserts value is Record<string, unknown> {
  const shape = kind === 'filter' ? '{ name, create(config, env) => Filter, configSchema? }' : '{ name, create(config, env) => Provider, configSchema?, defaultPrefix? }';
  if (typeof value !== 'object' || value === null) {
    throw new PluginLoadError(`${origin}: the default export must be a ${kind} plugin object ${shape}, got ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name === '') throw new PluginLoadError(`${origin}: the ${kind} plugin needs a string "name"; export ${shape}`);
  if (typeof v.create !== 'function') throw new PluginLoadError(`${origin}: the ${kind} plugin "${v.name}" needs a create(config, env) function; got ${describe(v.create)}`);
  if (v.configSchema !== undefined && (typeof v.configSchema !== 'object' || v.configSchema === null)) {
    throw new PluginLoadError(`${origin}: "configSchema" of ${kind} plugin "${v.name}" must be a JSON Schema object`);
  }
  if (v.apiVersion !== undefined && v.apiVersion !== PLUGIN_API_VERSION) {
    throw new PluginLoadError(`${origin}: ${kind} plugin "${v.name}" targets plugin API ${String(v.apiVersion)}, this gateway speaks ${PLUGIN_API_VERSION}`);
  }
}

export function asFilterPlugin(value: unknown, origin: string): FilterPlugin<Record<string, unknown>> {
  checkCommon('filter', value, origin);
  return value as unknown as FilterPlugin<Record<string, unknown>>;
}

export function asProviderPlugin(value: unknown, origin: string): ProviderPlugin<Record<string, unknown>> {
  checkCommon('provider', value, origin);
  if (value.modelPatterns !== undefined && (!Array.isArray(value.modelPatterns) || !value.modelPatterns.every((p) => typeof p === 'string'))) {
    throw new PluginLoadError(`${origin}: "modelPatterns" of provider plugin "${String(value.name)}" must be an array of strings such as ["claude-*"]`);
  }
  if (value.defaultPrefix !== undefined && (typeof value.defaultPrefix !== 'string' || !value.defaultPrefix.startsWith('/'))) {
    throw new PluginLoadError(`${origin}: "defaultPrefix" of provider plugin "${String(value.name)}" must be a path starting with "/"`);
  }
  return value as unknown as ProviderPlugin<Record<string, unknown>>;
}

/** Check what a plugin's `create` returned has the hooks' shapes. */
export function checkInstance(kind: Kind, name: string, instance: unknown, hooks: readonly string[]): void {
  if (typeof instance !== 'object' || instance === null) {
    throw new PluginLoadError(`${kind} "${name}": create() must return an object, got ${describe(instance)}`);
  }
  for (const hook of hooks) {
    const h = (instance as Record<string, unknown>)[hook];
    if (h !== undefined && typeof h !== 'function') {
      throw new PluginLoadError(`${kind} "${name}": "${hook}" must be a function, got ${describe(h)}`);
    }
  }
}
