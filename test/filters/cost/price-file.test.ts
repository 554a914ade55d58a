/**
 * A `pricing.file` is held to the rules inline `pricing.providers` entries get (numbers
 * ≥ 0, input and output required, no unknown field): a negative price once gave negative
 * costs, and one non-numeric cache price a NaN cost that the SQLite ledger's NOT NULL
 * column refused — with it every other user's rows in the batch, at every retry. The
 * ledger writer also keeps such a row from blocking a batch, whatever let it through.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { LedgerWriter } from '../../../filters/cost/ledger/writer.js';
import { buildPriceBook } from '../../../filters/cost/price-book.js';
import { createLogger } from '../../../core/logger.js';
import { startGateway } from '../../helpers/gateway.js';
import { runCli } from '../../helpers/process.js';
import { tempDir } from '../../helpers/temp-dir.js';

const dir = tempDir('gw-price-file-');

function priceFile(name: string, models: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `providers:\n  anthropic:\n    taken: "2026-01-01"\n    models:\n${models}`);
  return file;
}

const BAD: Array<[string, string, RegExp]> = [
  ['negative.yaml', '      "claude-*": { input: -3, output: -15 }\n', /providers\.anthropic\.models\."claude-\*": input: must be a number ≥ 0 .*not -3/],
  ['text.yaml', '      "claude-sonnet-4*": { input: 3, output: 15 }\n      "claude-typo*": { input: 3, output: 15, cache_read: "0.3 USD" }\n', /providers\.anthropic\.models\."claude-typo\*": cache_read: must be a number ≥ 0 .*not "0\.3 USD"/],
  ['no-output.yaml', '      "claude-*": { input: 3 }\n', /providers\.anthropic\.models\."claude-\*": needs numeric "input" and "output"/],
  ['unknown-field.yaml', '      "claude-*": { input: 3, output: 15, cached_input: 0.3 }\n', /providers\.anthropic\.models\."claude-\*": "cached_input" is not a price/],
  ['tier-no-limit.yaml', '      "claude-*": { input: 3, output: 15, above: { input: 6, output: 22.5 } }\n', /providers\.anthropic\.models\."claude-\*": above\.prompt_tokens: must be an integer ≥ 1/],
  ['tier-text.yaml', '      "claude-*": { input: 3, output: 15, above: { prompt_tokens: 200000, input: 6, output: "22.50 USD" } }\n', /providers\.anthropic\.models\."claude-\*": above: output: must be a number ≥ 0 .*not "22\.50 USD"/],
];

t.test('the book refuses a file entry the config schema would refuse inline, naming the file and key', async (t) => {
  for (const [name, models, message] of BAD) {
    const file = priceFile(name, models);
    t.throws(() => buildPriceBook({ file }, dir, DEFAULT_PRICE_FILE), { message: new RegExp(`^pricing file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message.source}`) }, name);
  }
  t.throws(() => buildPriceBook({ file: priceFile('block.yaml', '      "m": { input: 1, output: 1 }\n    region: eu\n') }, dir, DEFAULT_PRICE_FILE), /providers\.anthropic: "region" is not one of taken, source, models/);
  t.ok(buildPriceBook({ file: priceFile('good.yaml', '      "claude-*": { input: 0, output: 15, cache_read: 0.3 }\n') }, dir, DEFAULT_PRICE_FILE), 'a good file, a free input included');
});

const config = (file: string) => `server: { port: 0 }
providers:
  echo: {}
pricing:
  file: ${file}
filters:
  - name: cost
`;

t.test('the gateway does not start with such a file, and validate says why', async (t) => {
  const file = priceFile('negative-start.yaml', BAD[0][1]);
  await t.rejects(startGateway(t, config(file)), /pricing file .*negative-start\.yaml: providers\.anthropic\.models\."claude-\*": input/);
  const yaml = path.join(dir, 'config.yaml');
  writeFileSync(yaml, config(file));
  const r = runCli(['validate', yaml]);
  t.equal(r.status, 1, r.stdout);
  t.match(r.stderr, /negative-start\.yaml: providers\.anthropic\.models\."claude-\*": input: must be a number ≥ 0/);
});

const row = (user: string, cost_nanos: number): LedgerRow => ({
  day: '2026-01-02', user, workspace: 'ws', project: '', provider: 'anthropic', model: 'claude-x',
  requests: 1, errors: 0, tokens_in: 10, tokens_out: 5, cache_creation_tokens: 0, cache_read_tokens: 3, cost_nanos, unpriced: 0,
});

t.test('a row whose cost is not a number does not block the batch: written at 0, flagged unpriced', async (t) => {
  const db = path.join(dir, 'ledger.sqlite');
  const logs: Array<{ level: string; msg: string }> = [];
  const writer = new LedgerWriter(new SqliteLedger(db), { flushIntervalMs: 60_000, maxBatchRows: 1000, log: createLogger({ sink: (line) => logs.push(JSON.parse(line)) }) });
  writer.add(row('alice', NaN));
  writer.add(row('bob', 1234));
  await writer.close();
  const read = new SqliteLedger(db);
  const rows = await read.rows();
  await read.close();
  t.match(rows.find((r) => r.user === 'bob'), { requests: 1, cost_nanos: 1234, unpriced: 0 }, "another user's row written");
  t.match(rows.find((r) => r.user === 'alice'), { requests: 1, cost_nanos: 0, unpriced: 1, tokens_in: 10 }, 'the request kept, at no cost, flagged unpriced');
  t.notOk(logs.some((l) => /ledger write failed/.test(l.msg)), 'no write failed');
  t.ok(logs.some((l) => l.level === 'error' && /cost that is not a number/.test(l.msg)), 'said so');
});
