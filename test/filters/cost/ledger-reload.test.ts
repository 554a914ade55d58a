/**
 * A reload that keeps the ledger keeps its one writer, and that writer takes the reload's
 * `flush_interval_ms` and `max_batch_rows`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, ECHO_PRICES, post } from '../fixtures.js';

const yaml = (ledger: string) =>
  config(`  - name: auth
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data, ${ledger} }
`, ECHO_PRICES);

async function requests(file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  const ledger = new SqliteLedger(file);
  try {
    return (await ledger.rows()).reduce((n, r) => n + r.requests, 0);
  } finally {
    await ledger.close();
  }
}

/** Whether the ledger file counts `want` requests within `timeoutMs` (its reads are async, unlike `waitFor`'s check). */
async function until(file: string, want: number, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while ((await requests(file)) < want) {
    if (Date.now() >= end) return false;
    await sleep(25);
  }
  return true;
}

t.test('max_batch_rows and flush_interval_ms set by a reload take effect', async (t) => {
  const gw = await startGateway(t, yaml('flush_interval_ms: 60000, max_batch_rows: 1000'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const db = path.join(gw.dir, 'data', 'ledger.sqlite');
  await post(url, { 'x-workspace-id': 'ws-abc123' });
  t.notOk(await until(db, 1, 300), 'batched for 60 s under the first settings');

  writeFileSync(gw.configPath, yaml('flush_interval_ms: 60000, max_batch_rows: 1'));
  t.match(await gw.gateway.reload(), { ok: true, changed: true });
  await post(url, { 'x-workspace-id': 'ws-abc123' });
  t.ok(await until(db, 2), 'max_batch_rows: 1 writes the batch at the next row');

  writeFileSync(gw.configPath, yaml('flush_interval_ms: 20, max_batch_rows: 1000'));
  t.match(await gw.gateway.reload(), { ok: true, changed: true });
  await post(url, { 'x-workspace-id': 'ws-abc123' });
  t.ok(await until(db, 3), 'flush_interval_ms: 20 writes it within the new interval');
});
