/**
 * The period of `/admin/usage` and `/admin/summary`: a day that does not exist is refused
 * like a malformed one, and the summary refuses a period longer than its charts draw
 * rather than draw fewer days than its totals count.
 */
import t from 'tap';
import { day, seededGateway, TOKEN } from './setup.js';

const auth = { authorization: `Bearer ${TOKEN}` };
type Summary = { days: string[]; totals: { tokens: number; cost_usd: number }; spend_by_project: Array<{ values: number[] }>; tokens_by_model: Array<{ values: number[] }> };
const sum = (series: Array<{ values: number[] }>) => series.reduce((n, s) => n + s.values.reduce((a, b) => a + b, 0), 0);

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers: auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

t.test('days that do not exist are refused, naming the parameter', async (t) => {
  const gw = await seededGateway(t);
  for (const path of ['/admin/usage', '/admin/summary']) {
    for (const [query, param] of [[`from=${day(3)}&to=2026-13-45`, 'to'], ['from=2026-02-30&to=2026-03-05', 'from'], ['from=2026-02-29&to=2026-03-05', 'from']] as const) {
      const res = await get(`${gw.url}${path}?${query}`);
      t.equal(res.status, 400, `${path}?${query}`);
      t.match(res.body, { error: { code: 'GW_ERR_REQUEST_INVALID', message: new RegExp(`^${param}: "`) } });
    }
    t.equal((await get(`${gw.url}${path}?from=2028-02-29&to=2028-03-01`)).status, 200, `${path}: a leap day is a day`);
  }
});

t.test('the summary charts every day of its period, and refuses a period longer than it draws', async (t) => {
  const gw = await seededGateway(t);
  const longest = await get(`${gw.url}/admin/summary?from=${day(399)}&to=${day(0)}`);
  t.equal(longest.status, 200, '400 days');
  const s = longest.body as unknown as Summary;
  t.equal(s.days.length, 400);
  t.equal(s.days.at(-1), day(0), 'the chart days reach the end of the period');
  t.ok(s.totals.cost_usd > 0);
  t.equal(Math.round(sum(s.spend_by_project) * 1e6) / 1e6, s.totals.cost_usd, 'spend by project adds up to the total spend');
  t.equal(sum(s.tokens_by_model), s.totals.tokens, 'tokens by model add up to the total tokens');

  const tooLong = await get(`${gw.url}/admin/summary?from=${day(450)}&to=${day(0)}`);
  t.equal(tooLong.status, 400, '451 days');
  t.match(tooLong.body, { error: { code: 'GW_ERR_REQUEST_INVALID', message: /451 days.*at most 400/ } });
  t.equal((await get(`${gw.url}/admin/usage?from=${day(450)}&to=${day(0)}`)).status, 200, 'the usage API has no days to draw: any period');
});
