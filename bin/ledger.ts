/**
 * `ai-gateway ledger rebuild --from AUDIT.jsonl… [--config FILE]`: recompute the usage
 * ledger from audit logs and replace its rows in one transaction. Lines go through the
 * same {@link rowFromAudit} as the live feed, so the result matches what the gateway
 * wrote. Lines from before cost tracking (no `cost_usd`) are priced with today's book.
 * `ai-gateway ledger rows [--config FILE]` prints the ledger's rows as JSON lines.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { compileSchema } from '../core/config/ajv.js';
import { loadConfigFile } from '../core/config/load.js';
import { resolveConfigPath } from '../core/gateway.js';
import { priceBookFor, providerKeys } from '../filters/cost/accounting.js';
import cost, { type CostConfig } from '../filters/cost/index.js';
import { rowFromAudit, type AuditFields } from '../filters/cost/ledger/entry.js';
import { openBackend } from '../filters/cost/ledger/index.js';
import { addCounts, keyString, type LedgerRow } from '../filters/cost/ledger/types.js';
import { costNanos, nanosToUsd } from '../filters/cost/price-book.js';
import { baseModelReader, type BaseModelOf } from './base-models.js';

type Out = (s: string) => void;

export async function ledger(argv: string[], out: Out, err: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { from: { type: 'string', multiple: true }, config: { type: 'string', short: 'c' } } });
  const verb = positionals[0];
  if (verb !== 'rebuild' && verb !== 'rows') {
    err('usage: ai-gateway ledger rebuild --from AUDIT.jsonl [--from MORE.jsonl] [--config FILE]\n       ai-gateway ledger rows [--config FILE]\n');
    return 2;
  }
  const loaded = loadConfigFile(resolveConfigPath(values.config, process.env));
  const entry = loaded.config.filters.find((f) => f.name === 'cost' && f.enabled !== false && !f.plugin);
  const settings = { ...(entry?.config ?? {}) } as unknown as CostConfig;
  compileSchema(cost.configSchema ?? {})(settings); // fills in the defaults
  if (!entry || settings.ledger.type === 'none') {
    err(`ai-gateway: ${loaded.file} keeps no ledger (the "cost" filter's ledger.type is none or the filter is absent)\n`);
    return 1;
  }
  const backend = await openBackend(settings.ledger, loaded.dir);
  try {
    if (verb === 'rows') {
      for (const row of await backend.rows()) out(JSON.stringify(row) + '\n');
      return 0;
    }
    if (!values.from?.length) {
      err('ai-gateway: ledger rebuild needs --from AUDIT.jsonl\n');
      return 2;
    }
    const book = priceBookFor({ config: loaded.config, configDir: loaded.dir });
    const rows = new Map<string, LedgerRow>();
    // Loaded only for lines written before cost tracking, which are priced here.
    let baseOf: BaseModelOf | undefined;
    let lines = 0;
    let skipped = 0;
    for (const file of values.from) {
      for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (text.trim() === '') continue;
        let line: AuditFields & { event?: string };
        try {
          line = JSON.parse(text) as AuditFields & { event?: string };
        } catch {
          skipped++;
          continue;
        }
        if (line.event !== 'ai_request' || typeof line.timestamp !== 'string') {
          skipped++;
          continue;
        }
        lines++;
        const row = rowFromAudit(line);
        if (line.cost_usd === undefined) repriceOld(row, line, book, loaded.config, (baseOf ??= await baseModelReader(loaded.config)));
        const key = keyString(row);
        const existing = rows.get(key);
        if (existing) addCounts(existing, row);
        else rows.set(key, row);
      }
    }
    await backend.replaceAll([...rows.values()]);
    const total = [...rows.values()].reduce((n, r) => n + r.cost_nanos, 0);
    out(`ledger rebuilt: ${lines} audit lines → ${rows.size} rows, $${nanosToUsd(total).toFixed(6)} (${backend.kind})${skipped ? `; ${skipped} lines skipped` : ''}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}

function repriceOld(row: LedgerRow, line: AuditFields, book: ReturnType<typeof priceBookFor>, config: Parameters<typeof providerKeys>[0], baseOf: BaseModelOf): void {
  const base = line.model ? baseOf(line.provider ?? undefined, line.model) : undefined;
  const match = book.lookup(providerKeys(config, line.provider ?? undefined), line.model ?? undefined, base);
  const usage = { inputTokens: row.tokens_in, outputTokens: row.tokens_out, cacheCreationTokens: row.cache_creation_tokens, cacheReadTokens: row.cache_read_tokens, cacheCreation1hTokens: line.cache_creation_1h_tokens ?? 0 };
  const used = usage.inputTokens + usage.outputTokens + usage.cacheCreationTokens + usage.cacheReadTokens > 0;
  row.cost_nanos = match ? costNanos(match.price, usage) : 0;
  row.unpriced = !match && used ? 1 : 0;
}
