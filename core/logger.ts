/**
 * Operational log: one JSON line per event on stderr (stdout is left to the audit sink).
 * Deliberately tiny; the audit log has its own writer.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string) => void;

export function createLogger(options: { level?: LogLevel; sink?: LogSink; bindings?: Record<string, unknown> } = {}): Logger {
  const min = rank[options.level ?? ((process.env.AI_GATEWAY_LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? rank.info;
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line));
  const bindings = options.bindings ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[level] < min) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...bindings, ...fields }, errorReplacer) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (more) => createLogger({ level: options.level, sink, bindings: { ...bindings, ...more } }),
  };
}

/** Strings no log line may show; see {@link redactInLogs}. */
const secrets = new Set<string>();

/**
 * Blank these strings (a config's provider keys and signing secrets) out of every string
 * the log writes — an error's message, a config issue, any field: a message can quote what
 * it was handed, and the log is shipped where the credentials must not go. Kept for the
 * process's life, so a request still running on a config a reload replaced is covered too.
 */
export function redactInLogs(values: Iterable<string>): void {
  for (const value of values) secrets.add(value);
}

/** `text` with every string given to {@link redactInLogs} blanked: for what is written to stderr without the log. */
export function redacted(text: string): string {
  if (secrets.size === 0) return text;
  for (const secret of secrets) if (text.includes(secret)) text = text.split(secret).join('***');
  return text;
}

/**
 * Every string redacted; an error as its name, code, message, the frame that made it and
 * its causes (three deep, so a cause that loops ends), never its whole stack: one line
 * each, and nothing of the values it was handed beyond its message.
 */
function errorReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return redacted(value);
  return value instanceof Error ? errorFields(value, 3) : value;
}

interface ErrorFields {
  name: string;
  message: string;
  code?: unknown;
  at?: string;
  cause?: ErrorFields;
}

function errorFields(err: Error, causes: number): ErrorFields {
  const cause = causes > 0 && err.cause instanceof Error ? errorFields(err.cause, causes - 1) : undefined;
  return { name: err.name, message: String(err.message), code: (err as { code?: unknown }).code, at: thrownAt(err.stack), cause };
}

/** Where the error was made: the first frame of a V8 stack in code with a file (not a builtin such as `JSON.parse`). */
function thrownAt(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  for (let start = stack.indexOf('\n    at '); start >= 0; start = stack.indexOf('\n    at ', start + 1)) {
    const end = stack.indexOf('\n', start + 1);
    const frame = stack.slice(start + 8, end < 0 ? undefined : end);
    if (!frame.endsWith('(<anonymous>)') && !frame.endsWith('(native)')) return frame;
  }
  return undefined;
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
