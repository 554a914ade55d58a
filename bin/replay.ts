/**
 * `ai-gateway replay --config PROPOSED.yaml --audit AUDIT.jsonl… [--since 7d] [--json OUT.json]`:
 * replay recorded traffic through a proposed config before applying it (see
 * `replay-engine.ts`). `--since` counts back from the newest recorded line, so a replay of
 * the same log always gives the same answer. Prints a table of refusals and a summary;
 * `--json` also writes the whole report. Exit 0 whatever it finds (it is a report), 1 when
 * the config or the log cannot be read, 2 on bad usage.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssue } from '../core/index.js';
import { loadConfigFile, type LoadedConfig } from '../core/config/load.js';
import { redacted } from '../core/logger.js';
import { auditFiles } from '../filters/audit/verify.js';
import { baseModelReader } from './base-models.js';
import { replay as run, type RecordedRequest, type ReplayReport } from './replay-engine.js';

type Out = (s: string) => void;

const USAGE = 'usage: ai-gateway replay --config PROPOSED.yaml --audit AUDIT.jsonl|DIR [--audit MORE] [--since 7d] [--json OUT.json]\n';
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `7d`, `12h`, `30m`, `2w` as milliseconds; undefined when malformed. */
export function parseSince(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

async function readRecords(files: readonly string[]): Promise<RecordedRequest[]> {
  const out: RecordedRequest[] = [];
  for (const file of files) {
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as RecordedRequest & { event?: string };
        if (line.event === 'ai_request' && typeof line.timestamp === 'string') out.push(line);
      } catch {
        // a damaged line is `audit verify`'s business, not the replay's
      }
    }
  }
  return out;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n - 1) + '…' : s + ' '.repeat(n - s.length);
}

/** The terminal table: one row per refusal, then totals. */
export function formatReport(r: ReplayReport): string {
  const lines: string[] = [];
  lines.push(`replayed ${r.replayed} requests from ${r.from ?? '-'} to ${r.to ?? '-'}: ${r.refused} would be refused, ${r.newly_admitted} refused before would now pass`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.refusals.length > 0) {
    lines.push('');
    lines.push(`${pad('TIME', 25)}${pad('USER', 14)}${pad('WORKSPACE', 14)}${pad('MODEL', 28)}${pad('WAS', 5)}${pad('NOW', 5)}${pad('BY', 11)}REASON`);
    for (const f of r.refusals) {
      lines.push(`${pad(f.at, 25)}${pad(f.user ?? '-', 14)}${pad(f.workspace ?? '-', 14)}${pad(f.model ?? '-', 28)}${pad(String(f.recorded_status), 5)}${pad(String(f.status), 5)}${pad(f.by, 11)}${f.reason}`);
    }
    lines.push('');
    lines.push(`by filter: ${Object.entries(r.by_filter).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    lines.push(`by user:   ${Object.entries(r.by_user).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  for (const a of r.budget_alerts) lines.push(`budget alert: ${a.scope} "${a.name}" ${a.period} reaches ${a.threshold_percent}% at ${a.at}`);
  return lines.join('\n') + '\n';
}

export async function replay(argv: string[], out: Out, err: Out): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, audit: { type: 'string', multiple: true }, since: { type: 'string' }, json: { type: 'string' } } });
  if (!values.config || !values.audit?.length) {
    err(USAGE);
    return 2;
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (values.since !== undefined && since === undefined) {
    err(`ai-gateway: --since "${values.since}" is not a duration such as 30m, 12h, 7d or 2w\n`);
    return 2;
  }
  let loaded: LoadedConfig;
  let records: RecordedRequest[];
  try {
    loaded = loadConfigFile(values.config);
    records = await readRecords(auditFiles(values.audit).flat());
  } catch (e) {
    // The config's secrets were registered as it loaded: an issue may quote one, as at start and in `validate`.
    if (e instanceof ConfigError) for (const issue of e.issues) err(redacted(formatIssue(issue)) + '\n');
    else err(`ai-gateway: ${redacted((e as Error).message)}\n`);
    return 1;
  }
  if (since !== undefined && records.length > 0) {
    // A loop, not Math.max(...all): spreading ~125,000 arguments overflows the stack.
    let newest = Number.NEGATIVE_INFINITY;
    for (const r of records) {
      const at = Date.parse(r.timestamp);
      if (at > newest) newest = at;
    }
    records = records.filter((r) => Date.parse(r.timestamp) >= newest - since);
  }
  const report = run(loaded, records, process.env, await baseModelReader(loaded.config));
  out(formatReport(report));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
  return 0;
}
