/**
 * What an admin call costs on a ledger that holds a year: a SQLite ledger filled with
 * `--rows` rows spread evenly over the 365 UTC days that end today, then an in-process
 * gateway (admin, cost with that ledger, budgets) asked over loopback for
 * `/admin/summary` and `/admin/usage` of the last 7 days, and for the dashboard's first
 * load (the summary of the default 30 days). Each case runs two ways: summed in SQL
 * (`groupTotals`, what the SQLite ledger does) and summed in JavaScript from the rows of
 * its days (what a backend without `groupTotals` gets, and what every call did before).
 * Each figure is the median of `--rounds` calls after one warm-up, in ms at the client;
 * the cases and ways run interleaved.
 *
 *   npx tsx bench/admin-ledger.ts [--rows 500000] [--rounds 9]
 *
 * The ledger lives in a temp directory removed at the end; `--rows` is capped at 2 M.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtinCatalog } from '../bin/catalog.js';
import { Gateway } from '../core/index.js';
import { silentLogger } from '../core/logger.js';
import { SqliteLedger } from '../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../filters/cost/ledger/types.js';
import { writeConfig } from '../test/helpers/gateway.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { median } from './lib/proc.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '9' } } });
const ROWS = Math.min(Number(args.rows), 2_000_000);
const ROUNDS = Number(args.rounds);
const DAYS = 365;
const DAY_MS = 86_400_000;
const TOKEN = 'bench-admin-token-0123456789';

const USERS = 60;
const MODELS: ReadonlyArray<[string, string]> = [
  ['anthropic', 'claude-sonnet-4-5'], ['anthropic', 'claude-haiku-4-5'], ['anthropic', 'claude-opus-4-1'], ['openai', 'gpt-5'],
  ['openai', 'gpt-5-mini'], ['bedrock', 'anthropic.claude-sonnet-4-5'], ['gemini', 'gemini-2.5-pro'], ['gemini', 'gemini-2.5-flash'],
];
const day = (back: number) => new Date(Date.now() - back * DAY_MS).toISOString().slice(0, 10);

/** Row `i` of a day: distinct keys, 60 users over 7 projects, 8 models, workspaces per user. */
function row(d: string, i: number): LedgerRow {
  const user = i % USERS;
  const [provider, model] = MODELS[Math.floor(i / USERS) % MODELS.length];
  const requests = 1 + (i % 13);
  return {
    day: d, user: `user-${user}`, workspace: `ws-${user}-${Math.floor(i / (USERS * MODELS.length))}`, project: `project-${user % 7}`, provider, model,
    requests, errors: i % 17 === 0 ? 1 : 0, tokens_in: requests * 1200, tokens_out: requests * 300, cache_creation_tokens: 0, cache_read_tokens: requests * 500,
    cost_nanos: requests * 4_500_000, unpriced: 0,
  };
}

function fill(file: string): void {
  const ledger = new SqliteLedger(file);
  const perDay = Math.ceil(ROWS / DAYS);
  let left = ROWS;
  for (let back = DAYS - 1; back >= 0 && left > 0; back--) {
    const n = Math.min(perDay, left);
    ledger.addSync(Array.from({ length: n }, (_, i) => row(day(back), i)));
    left -= n;
  }
  void ledger.close();
}

const config = `providers:
  echo: { models: [echo-1] }
filters:
  - name: admin
    config: { token: "${TOKEN}" }
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data }
  - name: budget
    config:
      global: { monthly_usd: 100000 }
      default_user: { daily_usd: 100, monthly_usd: 1000 }
      default_project: { monthly_usd: 5000 }
      projects:
        project-1: { monthly_usd: 2000 }
`;

async function main(): Promise<void> {
  const dir = tempDir('gw-bench-admin-');
  try {
    const started = performance.now();
    fill(path.join(dir, 'data', 'ledger.sqlite'));
    console.log(`ledger: ${ROWS} rows over ${DAYS} days (${day(DAYS - 1)} .. ${day(0)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const { file } = writeConfig(config, dir);
    const gateway = await Gateway.start({ configPath: file, catalog: builtinCatalog, env: {}, log: silentLogger, port: 0, host: '127.0.0.1' });
    try {
      const week = `from=${day(6)}&to=${day(0)}`;
      const cases: Array<[string, string]> = [
        ['summary, 7 days', `/admin/summary?${week}`],
        ['usage, 7 days by day,user', `/admin/usage?${week}&group_by=day,user`],
        ['summary, default 30 days', '/admin/summary'],
      ];
      const call = async (p: string): Promise<number> => {
        const t0 = performance.now();
        const r = await fetch(gateway.url + p, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = await r.text();
        if (r.status !== 200) throw new Error(`${p}: ${r.status} ${body.slice(0, 200)}`);
        return performance.now() - t0;
      };
      // The gateway opens its SQLite ledger in this process: without the method, the admin API reads rows.
      const proto = SqliteLedger.prototype as { groupTotals?: SqliteLedger['groupTotals'] };
      const inSql = proto.groupTotals;
      const ways: Array<[string, SqliteLedger['groupTotals'] | undefined]> = [['SQL', inSql], ['rows', undefined]];
      const times = cases.map(() => ways.map((): number[] => []));
      try {
        for (let r = -1; r < ROUNDS; r++) {
          for (const [i, [, p]] of cases.entries()) {
            for (const [w, [, method]] of ways.entries()) {
              proto.groupTotals = method;
              const ms = await call(p);
              if (r >= 0) times[i][w].push(ms); // round -1 warms up
            }
          }
        }
      } finally {
        proto.groupTotals = inSql;
      }
      for (const [i, [name]] of cases.entries()) {
        for (const [w, [way]] of ways.entries()) {
          const sorted = [...times[i][w]].sort((a, b) => a - b);
          console.log(`${name.padEnd(28)} ${way.padEnd(5)} median ${median(times[i][w]).toFixed(1).padStart(8)} ms   (min ${sorted[0].toFixed(1)}, max ${sorted[sorted.length - 1].toFixed(1)}, ${ROUNDS} calls)`);
        }
      }
    } finally {
      await gateway.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
