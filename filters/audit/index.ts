/**
 * `audit`: one JSON line per request that reached an AI route or no route at all —
 * admitted, rejected, failed upstream or aborted by the client — written off the request
 * path (see `writer.ts`). Operational endpoints (`/v1/usage`) are not audited. Also keeps
 * today's per-user and per-workspace counts and contributes them to `GET /v1/usage`.
 * No credentials are ever in a line; prompt and completion text only with `log_content`.
 */
import path from 'node:path';
import { createKey, type Filter, type FilterPlugin, type PluginEnv, type RequestContext } from '../../core/index.js';
import { BodyCapture, clip, collectText, Redactor } from './content.js';
import { dailyUsage } from './daily-usage.js';
import { auditLine, isAudited, type AuditContent } from './record.js';
import { completionTime, priceBookFor, requestCost } from '../cost/accounting.js';
import { noteMetadataSession, sessionOf } from '../cost/session.js';
import { writerPool } from './writer.js';

export interface AuditConfig {
  stdout: boolean;
  /** Append-only file; relative paths are resolved against the config's directory. Empty: none. */
  file: string;
  flush_interval_ms: number;
  flush_bytes: number;
  log_content: boolean;
  content_max_chars: number;
  /** Regular expressions whose matches are replaced by `[REDACTED]` in logged content. */
  redact_patterns: string[];
  /** Hash-chain the file's lines so edits, deletions, insertions and reorderings show (`ai-gateway audit verify`). */
  chain: boolean;
  /** Rotate the file once it holds this many bytes; 0: never by size. */
  rotate_bytes: number;
  /** Rotate the file when the UTC day changes. */
  rotate_daily: boolean;
}

/** Common credential shapes; a platform team adds its own. */
export const DEFAULT_REDACT_PATTERNS = [
  'gwk_[A-Za-z0-9_-]+',
  'sk-ant-[A-Za-z0-9_-]+',
  'sk-[A-Za-z0-9_-]{20,}',
  '(?:AKIA|ASIA)[0-9A-Z]{16}',
  'AIza[0-9A-Za-z_-]{35}',
  '(?:[Bb]earer)\\s+[A-Za-z0-9._~+/=-]+',
  '-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----',
];

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stdout: { type: 'boolean', default: true },
    file: { type: 'string', default: '' },
    flush_interval_ms: { type: 'integer', minimum: 10, maximum: 60000, default: 200 },
    flush_bytes: { type: 'integer', minimum: 1, default: 65536 },
    log_content: { type: 'boolean', default: false },
    content_max_chars: { type: 'integer', minimum: 0, default: 8192 },
    redact_patterns: { type: 'array', items: { type: 'string' }, default: DEFAULT_REDACT_PATTERNS },
    chain: { type: 'boolean', default: true },
    rotate_bytes: { type: 'integer', minimum: 0, default: 0 },
    rotate_daily: { type: 'boolean', default: false },
  },
};

const CAPTURE = createKey<BodyCapture>('audit.capture');
/** The request's prompt text for `log_content` (null: the body had none), read at onRequest. */
const PROMPT = createKey<{ text: string | null }>('audit.prompt');

function createAudit(config: AuditConfig, env: PluginEnv): Filter {
  let redactor: Redactor;
  try {
    redactor = new Redactor(config.redact_patterns);
  } catch (err) {
    throw new Error(`redact_patterns: ${(err as Error).message}`);
  }
  const file = config.file ? path.resolve(env.configDir, config.file) : undefined;
  const { writer, release } = writerPool(env.shared).acquire({ stdout: config.stdout, file, flushIntervalMs: config.flush_interval_ms, flushBytes: config.flush_bytes, chain: config.chain, rotateBytes: config.rotate_bytes, rotateDaily: config.rotate_daily }, env);
  const usage = dailyUsage(env.shared);
  const book = priceBookFor(env);
  const max = config.content_max_chars;

  function promptOf(ctx: RequestContext): string | null {
    try {
      const parts: string[] = [];
      collectText(ctx.json(), parts);
      return redactor.apply(clip(parts.join('\n'), max));
    } catch {
      return null; // no JSON body: nothing to log
    }
  }

  function content(ctx: RequestContext): AuditContent {
    // Read at onRequest while the parsed body was at hand; a request refused before this
    // filter ran is parsed here.
    const noted = ctx.get(PROMPT);
    const prompt = noted ? noted.text : promptOf(ctx);
    const capture = ctx.get(CAPTURE);
    return { prompt, completion: capture ? redactor.apply(clip(capture.text(), max)) : null };
  }

  const filter: Filter = {
    onComplete(ctx, outcome) {
      if (!isAudited(ctx, outcome)) return;
      const cost = requestCost(ctx, outcome, book, env.config);
      const accounting = { costUsd: cost.usd, priceMissing: !cost.priced, session: sessionOf(ctx) };
      writer.write(auditLine(ctx, outcome, completionTime(ctx), config.log_content ? content(ctx) : undefined, accounting));
      if (ctx.identity) usage.record(ctx.identity.user, ctx.identity.workspace, outcome, cost.nanos);
    },
    usage(ctx) {
      return { today: ctx.identity ? usage.snapshot(ctx.identity.user, ctx.identity.workspace) : null };
    },
    close: release,
  };
  filter.onRequest = (ctx) => {
    if (ctx.kind === 'operational') return;
    // While the parsed body is at hand: the line is written after a stream, when it is gone.
    noteMetadataSession(ctx);
    if (!config.log_content) return;
    // Core lets go of the parsed body once the request is sent upstream.
    ctx.set(PROMPT, { text: promptOf(ctx) });
    // Raw bytes held up to a bound: a few bytes per character covers the multi-byte case.
    const capture = new BodyCapture(Math.max(1024, max * 8));
    ctx.set(CAPTURE, capture);
    ctx.observeBody(capture);
  };
  return filter;
}

const audit: FilterPlugin<AuditConfig> = {
  name: 'audit',
  apiVersion: 1,
  configSchema,
  create: createAudit,
};
export default audit;
