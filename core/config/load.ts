/**
 * Read, parse, interpolate and validate the config file. Every failure becomes a
 * ConfigError listing each problem with file, line and key path; nothing is half-applied.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument, visit, type Document } from '../deps/yaml.js';
import { defaultInflightBodyBytes } from '../body-budget.js';
import { packageRoot } from '../package-root.js';
import { compileSchema } from './ajv.js';
import { configContentHash } from './content-hash.js';
import { blankStrings, coercedBlanks, withBlanks } from './blank-values.js';
import { ConfigError, formatPath, SourceMap } from './issues.js';
import { interpolateDocument } from './interpolate.js';
import { configSecrets } from './secrets.js';
import { redactInLogs } from '../logger.js';
import { clusterUrlProblem, SENTINEL_WITH_CLUSTER, sentinelNodeProblem } from '../stores/redis-client.js';
import { readRedisTls } from '../stores/redis-tls.js';
import type { GatewayConfig } from './types.js';

export const defaultConfigPath = path.join(packageRoot, 'configs', 'config.yaml');

const configSchema = JSON.parse(readFileSync(path.join(packageRoot, 'schemas', 'config.schema.json'), 'utf8')) as object;

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** sha256 of the file's bytes. */
  readonly hash: string;
  readonly file: string;
  readonly dir: string;
  readonly source: SourceMap;
  readonly loadedAt: Date;
}

/** A config file's content as read, before anything is made of it. */
export interface ConfigFileContent {
  /** The absolute path read. */
  readonly file: string;
  readonly text: string;
  /** sha256 of the bytes read: what the file watcher compares, whether the content loads or not. */
  readonly hash: string;
}

export function readConfigFile(file: string): ConfigFileContent {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(absolute);
  } catch (err) {
    throw new ConfigError([{ file: absolute, path: '', message: `cannot read config: ${(err as Error).message}` }]);
  }
  return { file: absolute, text: bytes.toString('utf8'), hash: configContentHash(bytes) };
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const content = readConfigFile(file);
  return parseConfig(content.text, content.file, env, content.hash);
}

/** `hash` is the file bytes' sha256 when the caller has it; otherwise taken of `text`. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env, hash = configContentHash(text)): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(file, doc, lines);
  if (doc.errors.length > 0) {
    // The first syntax error is the real one; the rest usually cascade from it.
    const first = doc.errors[0];
    const pos = lines.linePos(first.pos[0]);
    const line = text.split('\n')[pos.line - 1] ?? '';
    const hint = /\{[^}]*\$\{/.test(line) ? ' (a ${VAR} inside a {…} flow mapping must be quoted: "${VAR}")' : '';
    const more = doc.errors.length > 1 ? ` (${doc.errors.length - 1} more errors follow from it)` : '';
    // yaml says only "Map keys must be unique": name the key, and its path when the document shows it.
    const duplicate = first.code === 'DUPLICATE_KEY' ? source.keyPathAt(first.pos[0]) : undefined;
    const what = duplicate ? `duplicate key ${String(duplicate[duplicate.length - 1])} (map keys must be unique)` : first.message.split('\n')[0];
    throw new ConfigError([{ file, line: pos.line, column: pos.col, path: duplicate ? formatPath(duplicate) : '', message: `YAML: ${what}${hint}${more}` }]);
  }
  // Blank lines and comments only: a truncated write, `echo > config.yaml`, a template that
  // rendered nothing. Applied, it would remove every provider and filter.
  if (doc.contents === null) throw new ConfigError([{ file, path: '', message: 'the config file is empty (nothing but blank lines or comments)' }]);
  interpolateDocument(doc, env);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // yaml refuses to expand an alias bomb ("billion laughs") here, not while parsing.
    const pos = firstAlias(doc, lines);
    throw new ConfigError([{ file, line: pos?.line ?? 1, column: pos?.col ?? 1, path: '', message: `YAML: ${(err as Error).message}${pos ? ' (the first alias is here)' : ''}` }]);
  }
  // Before any issue of this load is written: a plugin's create() error can quote its key.
  redactInLogs(configSecrets(raw));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'config must be a YAML mapping' }]);
  }
  const validate = compileSchema(configSchema);
  const loaded: LoadedConfig = {
    config: raw as GatewayConfig,
    hash,
    file,
    dir: path.dirname(file),
    source,
    loadedAt: new Date(),
  };
  const blanks = blankStrings(raw);
  const valid = validate(raw);
  const issues = withBlanks(coercedBlanks(raw, blanks, [], source), valid ? [] : source.fromAjv([], validate.errors ?? []));
  if (issues.length > 0) throw new ConfigError(issues, loaded);
  const workers = workerCount(loaded.config.server.workers);
  if (workers > 1 && (loaded.config.store?.type ?? 'memory') === 'memory') {
    // Each worker would keep its own counters: limits and budgets would multiply by the worker count.
    throw new ConfigError([source.issue(['server', 'workers'], `${workers} workers need the shared store so limits stay global: set store.type to redis, or server.workers to 1`)], loaded);
  }
  const redis = loaded.config.store?.redis;
  const clusterProblem = redis?.cluster ? clusterUrlProblem(redis.url) : undefined;
  if (clusterProblem) throw new ConfigError([source.issue(['store', 'redis', 'url'], clusterProblem)], loaded);
  if (redis?.sentinel && redis.cluster) throw new ConfigError([source.issue(['store', 'redis', 'sentinel'], SENTINEL_WITH_CLUSTER)], loaded);
  const nodeProblems = (redis?.sentinel?.nodes ?? []).flatMap((node, i) => {
    const problem = sentinelNodeProblem(node);
    return problem ? [source.issue(['store', 'redis', 'sentinel', 'nodes', i], problem)] : [];
  });
  if (nodeProblems.length > 0) throw new ConfigError(nodeProblems, loaded);
  // Checked only where used: a memory store's unused redis section may name files this machine lacks.
  const tls = redis?.tls && loaded.config.store?.type === 'redis' ? readRedisTls(redis.url, loaded.dir, redis.tls) : undefined;
  if (tls && 'problems' in tls) {
    throw new ConfigError(tls.problems.map((p) => source.issue(p.key === 'tls' ? ['store', 'redis', 'tls'] : ['store', 'redis', 'tls', p.key], p.message)), loaded);
  }
  const server = loaded.config.server;
  if (server.max_inflight_body_bytes === undefined) server.max_inflight_body_bytes = defaultInflightBodyBytes(server.max_body_bytes);
  else if (server.max_inflight_body_bytes < server.max_body_bytes) {
    // A body between the two could never be taken: its client would retry the 503 forever.
    throw new ConfigError([source.issue(['server', 'max_inflight_body_bytes'], `must be at least server.max_body_bytes (${server.max_body_bytes}), or a body that size is refused however idle the gateway is`)], loaded);
  }
  return loaded;
}

/** Where the document's first alias (`*name`) is. */
function firstAlias(doc: Document, lines: LineCounter): { line: number; col: number } | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at === undefined ? undefined : lines.linePos(at);
}

/** `server.workers` as a number: `auto` is the cores this process may use. */
export function workerCount(setting: number | 'auto' | undefined): number {
  return setting === 'auto' ? availableParallelism() : (setting ?? 1);
}
