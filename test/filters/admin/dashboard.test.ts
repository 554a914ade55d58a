/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core): the
 * login form, the charts drawn from the seeded ledger, a filter, a screenshot kept in
 * test/artifacts/, and logging out: a page of another origin cannot (its <img> and its
 * form are refused), the Log out button does. One browser launch for the file; skipped
 * where no Chromium exists.
 */
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { messages, post } from '../fixtures.js';
import { seededGateway, TOKEN } from './setup.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'artifacts');

/** What the page exposes, as seen from page.evaluate (the test has no DOM types). */
interface UPlotLike {
  series: Array<{ label?: string }>;
  data: number[][];
  root: { querySelectorAll(sel: string): { length: number } };
}
interface PageGlobal {
  dashboard: { charts: Record<string, UPlotLike>; loads: number };
  document: { body: { dataset: { state?: string } } };
}

interface ChartState {
  series: string[];
  points: number;
  canvases: number;
}

// CI installs Chromium (.ci/run), so there a missing one fails instead of skipping.
t.test('the dashboard renders the ledger in Chromium', { skip: existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
  const gw = await seededGateway(t);
  for (let i = 0; i < 3; i++) await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages());

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const outside: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(gw.url)) outside.push(r.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${gw.url}/dashboard`);
  t.equal(await page.locator('form#login').count(), 1, 'the login form first');
  await page.fill('input[name=token]', TOKEN);
  await Promise.all([page.waitForURL(`${gw.url}/dashboard`), page.click('button[type=submit]')]);
  await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });

  const charts = () =>
    page.evaluate(() => {
      const d = (globalThis as unknown as PageGlobal).dashboard;
      const out: Record<string, ChartState> = {};
      for (const [k, u] of Object.entries(d.charts)) out[k] = { series: u.series.slice(1).map((s) => String(s.label)), points: u.data[0].length, canvases: u.root.querySelectorAll('canvas').length };
      return out;
    });
  const all = await charts();
  t.same(Object.keys(all).sort(), ['model', 'project', 'rejections', 'user'], 'four charts');
  for (const [k, c] of Object.entries(all)) t.equal(c.canvases, 1, `${k}: drawn on a canvas`);
  t.same(all.project.series.sort(), ['research', 'webide'], 'spend by project: the seeded projects');
  t.same(all.user.series.sort(), ['alice', 'bob', 'carol'], 'spend by user (the echo traffic is free: no line to draw)');
  t.same(all.model.series.sort(), ['claude-haiku-3-5', 'claude-sonnet-4', 'echo-1', 'gpt-4o'], 'tokens by model');
  t.equal(all.project.points, 30, 'one point per day of the default 30-day period');
  t.same(all.rejections.series, ['rate limit', 'budget']);
  t.ok(all.rejections.points >= 24, 'the rejections chart spans at least a day of hours');
  const rejected = await page.evaluate(() => (globalThis as unknown as PageGlobal).dashboard.charts.rejections.data[1].reduce((a, b) => a + b, 0));
  t.equal(rejected, 1, 'the one rate-limit rejection is on it');
  const spend = await page.evaluate(() => {
    const u = (globalThis as unknown as PageGlobal).dashboard.charts.project;
    const i = u.series.findIndex((s) => s.label === 'webide');
    return u.data[i].reduce((a, b) => a + b, 0);
  });
  t.ok(Math.abs(spend - 0.7) < 0.01, `webide spend sums to the seeded $0.70 (got ${spend})`);
  t.match(await page.locator('#budgets tbody').innerText(), /project research\s+month/);
  t.match(await page.locator('#workspaces tbody tr').first().innerText(), /ws-alice/, 'the top workspace by cost');
  t.match(await page.locator('#totals').innerText(), /Requests\s+32/);

  // A filter: one project.
  const loads = await page.evaluate(() => (globalThis as unknown as PageGlobal).dashboard.loads);
  await page.selectOption('select[name=project]', 'research');
  await page.waitForFunction((n) => {
    const g = globalThis as unknown as PageGlobal;
    return g.dashboard.loads > n && g.document.body.dataset.state === 'ready';
  }, loads);
  const filtered = await charts();
  t.same(filtered.project.series, ['research'], 'the project filter narrows the charts');
  t.same(filtered.user.series.sort(), ['bob', 'carol']);
  t.match(await page.locator('#csv').getAttribute('href'), /project=research/, 'the CSV link follows the filters');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  t.ok(existsSync(path.join(ARTIFACTS, 'dashboard.png')), 'screenshot kept in test/artifacts/dashboard.png');
  t.same(outside, [], 'nothing fetched from outside the gateway');
  t.same(errors, [], 'no script errors');

  // Another origin of the same site (another port of 127.0.0.1: the SameSite=Strict cookie
  // goes along) tries to log the admin out, in a tab of the same browser session.
  const evil = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><img src="${gw.url}/dashboard/logout"><form id="f" method="post" action="${gw.url}/dashboard/logout"></form><script>setTimeout(() => document.getElementById('f').submit(), 200)</script>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => evil.close(resolve)));
  const other = await context.newPage();
  const tried: Array<[string, number]> = [];
  other.on('response', (r) => {
    if (r.url().startsWith(`${gw.url}/dashboard/logout`)) tried.push([r.request().method(), r.status()]);
  });
  await Promise.all([other.waitForURL(`${gw.url}/dashboard/logout`), other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`)]);
  t.same(tried.sort(), [['GET', 405], ['POST', 403]], "the other origin's <img> is a 405, its form a 403");
  await other.close();
  await page.reload();
  await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
  t.equal(await page.locator('form#login').count(), 0, 'still logged in');

  const [session] = (await context.cookies(gw.url)).filter((c) => c.name === 'gw_admin_session');
  t.ok(session, 'the session cookie is there');
  await Promise.all([page.waitForSelector('form#login'), page.click('button#logout')]);
  t.equal(page.url(), `${gw.url}/dashboard`, 'Log out lands on the login form');
  t.same((await context.cookies(gw.url)).filter((c) => c.name === 'gw_admin_session'), [], 'the browser dropped the cookie');
  const replay = await fetch(`${gw.url}/admin/summary`, { headers: { cookie: `gw_admin_session=${session.value}` } });
  await replay.arrayBuffer();
  t.equal(replay.status, 403, 'the session is ended, not only forgotten by the browser');
  t.same(errors, [], 'no script errors');
});
