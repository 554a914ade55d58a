/**
 * What the dashboard shows belongs to the selection its filters show, in UTC, in a real
 * headless Chromium (Debian's, driven by playwright-core; one browser for the file):
 * - a browser west of UTC labels each UTC day of the ledger as that day;
 * - a refused period leaves no numbers of the previous one on the page;
 * - of two loads in flight, the last selection made is the one drawn.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import t from 'tap';
import { seededGateway, TOKEN } from './setup.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What the page exposes, as seen from page.evaluate (the test has no DOM types). */
interface UPlotLike {
  data: number[][];
  setLegend(o: { idx: number }): void;
  /** uPlot's own record of the x axis's tick positions (seconds), as drawn. */
  axes: Array<{ _splits?: number[] }>;
  root: { querySelector(sel: string): { textContent: string } | null };
}
interface PageGlobal {
  dashboard: { charts: Record<string, UPlotLike>; data: { days: string[]; spend_by_project: Array<{ name: string }> } | null; loads: number };
  document: {
    getElementById(id: string): { textContent: string; hidden: boolean };
    querySelectorAll(sel: string): { length: number };
    querySelector(sel: string): { value: string };
  };
}

t.test('the dashboard draws only the selection its filters show, in UTC', { skip: existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
  const gw = await seededGateway(t);
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());

  async function open(timezoneId?: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ timezoneId, locale: 'en-US', viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${gw.url}/dashboard`);
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${gw.url}/dashboard`), page.click('button[type=submit]')]);
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
    return { context, page, errors };
  }

  t.test('a browser west of UTC labels each UTC day as that day', async (t) => {
    const { context, page, errors } = await open('America/Los_Angeles');
    t.teardown(() => context.close());
    const seen = await page.evaluate(() => {
      const d = (globalThis as unknown as PageGlobal).dashboard;
      const u = d.charts.project;
      const last = d.data!.days.length - 1;
      u.setLegend({ idx: last });
      return {
        day: d.data!.days[last],
        x: u.data[0][last],
        legend: u.root.querySelector('.u-legend .u-series .u-value')?.textContent ?? '',
        ticks: u.axes[0]._splits ?? [],
        offset: new Date().getTimezoneOffset(),
      };
    });
    t.ok(seen.offset > 0, 'the browser is west of UTC');
    t.equal(seen.x, Date.parse(`${seen.day}T00:00:00Z`) / 1000, 'the point is at the UTC day');
    t.equal(seen.legend, seen.day, `the point for ${seen.day} is labelled with that day`);
    t.ok(seen.ticks.length > 0 && seen.ticks.every((s) => s % 86_400 === 0), `day ticks fall on UTC midnights (${seen.ticks.length} ticks)`);
    t.same(errors, [], 'no script errors');
  });

  t.test('a refused period leaves no numbers of the previous one', async (t) => {
    const { context, page, errors } = await open();
    t.teardown(() => context.close());
    t.match(await page.locator('#totals').innerText(), /Requests/);
    await page.fill('input[name=from]', '2024-01-01');
    await page.dispatchEvent('form#filters', 'change');
    await page.waitForSelector('body[data-state=error]', { timeout: 10_000 });
    const shown = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobal;
      return {
        error: g.document.getElementById('error').textContent,
        totals: g.document.getElementById('totals').textContent,
        canvases: g.document.querySelectorAll('canvas').length,
        rows: g.document.querySelectorAll('#budgets tbody tr, #workspaces tbody tr').length,
        data: g.dashboard.data,
      };
    });
    t.match(shown.error, /400|days/, 'the refusal is shown');
    t.equal(shown.totals, '', 'no totals');
    t.equal(shown.canvases, 0, 'no charts');
    t.equal(shown.rows, 0, 'no table rows');
    t.equal(shown.data, null);
    await page.fill('input[name=from]', '');
    await page.dispatchEvent('form#filters', 'change');
    await page.waitForSelector('body[data-state=ready]');
    t.equal(await page.evaluate(() => (globalThis as unknown as PageGlobal).document.querySelectorAll('canvas').length), 4, 'a good period draws again');
    t.same(errors, [], 'no script errors');
  });

  t.test('the last selection made is the one drawn, whatever order the answers arrive in', async (t) => {
    const { context, page, errors } = await open();
    t.teardown(() => context.close());
    // The first of two loads answers slowly (a slow ledger, a busy gateway).
    await page.route('**/admin/summary?*project=webide*', async (route) => {
      const res = await route.fetch().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1500));
      if (res) await route.fulfill({ response: res }).catch(() => undefined);
    });
    const loads = await page.evaluate(() => (globalThis as unknown as PageGlobal).dashboard.loads);
    await page.selectOption('select[name=project]', 'webide');
    await page.waitForTimeout(100);
    await page.selectOption('select[name=project]', 'research');
    await page.waitForFunction((n) => (globalThis as unknown as PageGlobal).dashboard.loads > n, loads);
    await page.waitForTimeout(2500); // the slow, older answer has arrived by now
    const r = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobal;
      return { selected: g.document.querySelector('select[name=project]').value, drawn: g.dashboard.data!.spend_by_project.map((s) => s.name), loads: g.dashboard.loads };
    });
    t.equal(r.selected, 'research');
    t.same(r.drawn, ['research'], 'the chart shows the selected project');
    t.equal(r.loads, loads + 1, 'the older answer was not drawn at all');
    t.same(errors, [], 'no script errors');
  });
});
