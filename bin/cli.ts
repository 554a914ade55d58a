/**
 * `ai-gateway [--config FILE]`            start the gateway
 * `ai-gateway validate [FILE…]`           check configs; prints `ok` or every error
 * `ai-gateway keygen WORKSPACE_ID`        print a workspace key
 * `ai-gateway ledger rebuild --from F`    rebuild the usage ledger from audit logs
 * `ai-gateway audit verify FILE…`         check the audit log's hash chain
 * `ai-gateway replay --config P --audit F` what a proposed config would have refused
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssue, Gateway, type ConfigIssue } from '../core/index.js';
import { loadConfigFile, workerCount, type LoadedConfig } from '../core/config/load.js';
import { WORKER_START_FAILED } from '../core/cluster/ipc.js';
import { codeCacheDir, codeCacheUse, writeCodeCachesToDir } from '../core/deps/code-cache.js';
import { CODE_CACHE_DIR_ENV } from '../core/deps/code-cache-dir.js';
import { createLogger, redacted, type Logger } from '../core/logger.js';
import { envPort, resolveConfigPath } from '../core/gateway.js';
import { checkStartable } from '../core/check.js';
import { resolvePlugins } from '../core/pipeline.js';
import { pluginTimeLimit } from '../core/plugins.js';
import { warmParserAhead } from '../core/pool.js';
import { holdSignals, type HeldSignals } from '../core/signals.js';
import { GATEWAY_VERSION } from '../core/version.js';
import { DEFAULT_PRICE_FILE } from '../filters/cost/accounting.js';
import { buildPriceBook, type PricingSection } from '../filters/cost/price-book.js';
import { builtinCatalog } from './catalog.js';

// The other commands, and the cluster primary, are imported when asked for: start-up loads
// only what serving needs.
type Command = (argv: string[], out: (s: string) => void, err: (s: string) => void) => number | Promise<number>;
const COMMANDS: Record<string, () => Promise<Command>> = {
  keygen: async () => (await import('./keygen.js')).keygen,
  ledger: async () => (await import('./ledger.js')).ledger,
  audit: async () => (await import('./audit.js')).audit,
  replay: async () => (await import('./replay.js')).replay,
};

const USAGE = `Usage:
  ai-gateway [--config FILE]        start the gateway (default: $AI_GATEWAY_CONFIG, then configs/config.yaml)
  ai-gateway validate [FILE…]       validate config files: prints "ok" ("FILE: ok" for each of several),
                                    or every error with file:line and key path; exit 1 if any file has one
  ai-gateway keygen WORKSPACE_ID [--secret S] [--config FILE]
                                    print a workspace key (secret: --secret, $AI_GATEWAY_KEY_SECRET, or the auth filter's key_secret)
  ai-gateway ledger rebuild --from AUDIT.jsonl [--config FILE]
                                    rebuild the usage ledger from audit logs (replaces its rows)
  ai-gateway ledger rows [--config FILE]
                                    print the ledger's rows as JSON lines
  ai-gateway audit verify [--expect-head HASH] [--json] FILE|DIR…
                                    check the audit hash chain; exit 1 at the first tampered line
                                    (--expect-head: the log must end at HASH; one log only, else exit 2;
                                    --json: the result as one JSON object)
  ai-gateway replay --config PROPOSED.yaml --audit AUDIT.jsonl [--since 7d] [--json OUT.json]
                                    replay recorded traffic through a proposed config: who it would refuse
  ai-gateway --version | --help
`;

/**
 * Every problem in a config: schema errors, then plugin errors where the plugin sections are
 * sound. With `build`, a config whose schema is sound is also built as start-up builds it
 * (certificate files, every plugin's create(), routes), opening nothing: core/check.ts.
 */
async function configIssues(file: string, { build }: { build: boolean }): Promise<ConfigIssue[]> {
  let loaded: LoadedConfig;
  const issues: ConfigIssue[] = [];
  try {
    loaded = loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
    const pluginSections = /^(providers|filters|routes)\b/;
    if (!err.partial || err.issues.some((i) => pluginSections.test(i.path) || i.path === '')) return issues;
    loaded = err.partial as LoadedConfig;
  }
  try {
    if (build && issues.length === 0) await checkStartable(loaded, builtinCatalog, pluginTimeLimit(process.env));
    else await resolvePlugins(loaded, builtinCatalog, pluginTimeLimit(process.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const priceFile = priceFileIssue(loaded);
  // The cost filter's create() reads the same file: said once, at pricing.file.
  if (priceFile) return [...issues.filter((i) => !i.message.endsWith(`: ${priceFile.message}`)), priceFile];
  return issues;
}

/**
 * The price file `pricing.file` names, read as start-up reads it: the cost filters build
 * the book in their `create`, which plugin checking does not run.
 */
function priceFileIssue(loaded: LoadedConfig): ConfigIssue | undefined {
  const pricing = loaded.config.pricing as PricingSection | undefined;
  if (!pricing?.file) return undefined;
  try {
    buildPriceBook(pricing, loaded.dir, DEFAULT_PRICE_FILE);
    return undefined;
  } catch (err) {
    const at = loaded.source.locate(['pricing', 'file']);
    return { file: loaded.file, line: at?.line, column: at?.col, path: 'pricing.file', message: (err as Error).message };
  }
}

/** Every file given (a shell glob's), each reported; 1 if any has an issue. */
async function validate(files: readonly string[]): Promise<number> {
  let failed = false;
  for (const file of files) {
    const issues = await configIssues(file, { build: true });
    if (issues.length === 0) {
      process.stdout.write(files.length > 1 ? `${file}: ok\n` : 'ok\n');
      continue;
    }
    failed = true;
    for (const issue of issues) process.stderr.write(redacted(formatIssue(issue)) + '\n');
  }
  return failed ? 1 : 0;
}

/** What goes to stderr is a log line like any other: the config's secrets are blanked (registered as it loaded). */
function refuse(issues: readonly ConfigIssue[], code: number): never {
  process.stderr.write(`ai-gateway: the config is invalid, not starting:\n`);
  for (const issue of issues) process.stderr.write('  ' + redacted(formatIssue(issue)) + '\n');
  process.exit(code);
}

/** One process, or the cluster primary when `server.workers` > 1; a forked worker serves. */
async function serve(configPath: string | undefined): Promise<void> {
  const log = cluster.isWorker ? createLogger({ bindings: { worker: cluster.worker!.id } }) : createLogger();
  // Caught before anything else: a signal during start-up is acted on once started.
  const signals = holdSignals(log);
  if (cluster.isWorker) return serveGateway(configPath, signals, log, true);
  envPort(process.env); // a bad AI_GATEWAY_PORT is refused once here, not by every worker
  const file = resolveConfigPath(configPath, process.env);
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.issues, 1);
    throw err;
  }
  const workers = workerCount(loaded.config.server.workers);
  const drainTimeoutMs = loaded.config.server.drain_timeout_ms;
  if (workers <= 1) return serveGateway(configPath, signals, log, false, loaded);
  // Plugin errors are reported once here, not by every worker.
  const issues = await configIssues(file, { build: false });
  if (issues.length > 0) refuse(issues, 1);
  const { runPrimary } = await import('../core/cluster/primary.js');
  const code = await runPrimary({ workers, drainTimeoutMs, signals, log: log.child({ role: 'primary' }) });
  await flushed();
  process.exit(code);
}

/**
 * V8 refuses a code cache made under other V8 flags, and most flags count: a
 * `--max-old-space-size` in NODE_OPTIONS makes every start compile what the build's caches
 * hold (~85–100 ms later to the first 200 here). With a cache directory named, the gateway
 * makes its own there; without one, it says so once, with what to do.
 */
function codeCachesAfterStart(log: Logger): void {
  const dir = codeCacheDir();
  if (dir.dir !== undefined) return keepCodeCaches(log, dir.dir);
  if (dir.problem) log.warn(`${CODE_CACHE_DIR_ENV} not used: a code cache is code, so its directory must be this user's alone`, { problem: dir.problem });
  const refused = [...codeCacheUse().values()].filter((use) => use === 'rejected').length;
  if (refused === 0) return;
  log.info("V8 refused the build's code caches (Node runs with V8 flags the build did not); start-up compiles instead", {
    files: refused,
    hint: `run npm run build with the same NODE_OPTIONS (--no-memory-reducer does not count), or name a directory of the gateway's own in ${CODE_CACHE_DIR_ENV}`,
  });
}

/**
 * With a cache directory named: once started, write there a cache of each file that started
 * without a usable one, for the next start: once per process, ~20 ms here, after the
 * listener is up (a request arriving meanwhile waits that long, once).
 */
function keepCodeCaches(log: Logger, dir: string): void {
  setImmediate(() => {
    try {
      const files = writeCodeCachesToDir().length;
      if (files > 0) log.info('code caches written for the next start', { dir, files });
    } catch (err) {
      log.warn('code caches not written', { dir, err });
    }
  });
}

/**
 * undici's HTTP parser compiled before the first upstream response needs it
 * (`core/parser-warm-up.ts`): ~10 ms of work, once, a moment after the listener is up, so
 * that a readiness probe or requests arriving with it do not wait behind it.
 */
const PARSER_WARM_UP_DELAY_MS = 250;

function warmParserSoon(log: Logger): void {
  setTimeout(() => void warmParserAhead().then((warmed) => log.debug('upstream HTTP parser compiled ahead', { warmed })), PARSER_WARM_UP_DELAY_MS).unref();
}

async function serveGateway(configPath: string | undefined, signals: HeldSignals, log: Logger, worker: boolean, loaded?: LoadedConfig): Promise<void> {
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({ configPath, loaded, log, catalog: builtinCatalog, ...(worker ? { clusterWorker: { workerHeader: process.env.AI_GATEWAY_WORKER_HEADER === '1' } } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.issues, worker ? WORKER_START_FAILED : 1);
    if (!worker) throw err;
    // A listen error in a worker: at start-up the primary stops the cluster instead of restarting it.
    process.stderr.write(`ai-gateway: worker cannot start: ${redacted((err as Error).message)}\n`);
    process.exit(WORKER_START_FAILED);
  }
  codeCachesAfterStart(gateway.log);
  warmParserSoon(gateway.log);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    gateway.log.info('shutting down', { signal });
    gateway.close().then(
      () => flushed().then(() => process.exit(0)),
      (err: unknown) => {
        gateway.log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  const reload = (signal: string): void => {
    gateway.log.info('reloading', { signal });
    // Forced: a price book or a schema the config names may be what changed.
    void gateway.reload({ force: true });
  };
  signals.handle({ stop, reload });
  gateway.worker?.on('drain', () => stop('primary: drain'));
  gateway.worker?.on('reload', () => reload('primary: reload'));
  // The primary died: nothing hands this worker connections or takes its records any more.
  if (worker) process.on('disconnect', () => stop('primary gone'));
}

/** Resolves once what was written to stdout (audit) and stderr (logs) has been handed to the OS. */
function flushed(): Promise<void> {
  const drain = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}

/**
 * A command's reader may stop early (`ai-gateway ledger rows | head`): the rest of the
 * output is not wanted, so stop there quietly instead of dying on an unhandled EPIPE.
 */
function quietOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

async function main(argv: string[]): Promise<number | undefined> {
  const command = Object.hasOwn(COMMANDS, argv[0] ?? '') ? COMMANDS[argv[0]] : undefined;
  if (command) {
    quietOnClosedStdout();
    return (await command())(argv.slice(1), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
  const [verb, ...rest] = positionals;
  // Serving writes audit lines to stdout and is left as it was.
  if (values.help || values.version || verb === 'validate') quietOnClosedStdout();
  if (values.help) return void process.stdout.write(USAGE), 0;
  if (values.version) return void process.stdout.write(GATEWAY_VERSION + '\n'), 0;
  switch (verb) {
    case undefined:
    case 'start':
      await serve(values.config);
      return undefined;
    case 'validate':
      return validate(rest.length > 0 ? rest : [resolveConfigPath(values.config, process.env)]);
    default:
      process.stderr.write(`ai-gateway: unknown command "${verb}"\n\n${USAGE}`);
      return 2;
  }
}

/** Run the command line `argv` (without node and the script); sets `process.exitCode`. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`ai-gateway: ${(err as Error).message}\n\n${USAGE}`);
        process.exitCode = 2;
        return;
      }
      // A runtime failure (port taken, unreadable file): say what failed, not how to call us.
      const hint = code === 'EADDRINUSE' ? ' (another process holds the port: stop it or set AI_GATEWAY_PORT)' : '';
      process.stderr.write(`ai-gateway: ${redacted((err as Error).message)}${hint}\n`);
      process.exitCode = 1;
    },
  );
}
