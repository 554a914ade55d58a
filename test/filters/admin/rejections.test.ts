/**
 * The dashboard's rejection counts cover the last seven days, as filters/admin/rejections.ts
 * promises, however long the gateway has been quiet: old hours used to be dropped only
 * when a new hour was recorded, so after a quiet spell the chart spanned back to them.
 */
import t from 'tap';
import { Rejections } from '../../../filters/admin/rejections.js';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 11, 1, 12, 30);
const sum = (s: ReturnType<Rejections['series']>, k: 'rate_limit' | 'budget') => s.reduce((n, h) => n + h[k], 0);

t.test('a rejection older than seven days is neither charted nor counted by user', async (t) => {
  const r = new Rejections();
  r.record('rate_limit', 'alice', now - 30 * 24 * HOUR); // a month ago, none since
  r.record('budget', 'alice', now - 30 * 24 * HOUR);
  const s = r.series(now);
  t.equal(s.length, 24, 'the last day of hours, as for a quiet gateway');
  t.equal(sum(s, 'rate_limit') + sum(s, 'budget'), 0);
  t.same(r.byUser(now), {}, 'alice\'s old rejection is not among the users');
});

t.test('within the seven days, every hour since the oldest rejection', async (t) => {
  const r = new Rejections();
  r.record('rate_limit', 'alice', now - (7 * 24 - 1) * HOUR); // the oldest hour that still counts
  r.record('rate_limit', 'bob', now - 8 * 24 * HOUR); // does not
  r.record('rate_limit', 'bob', now - HOUR);
  r.record('rate_limit', 'bob', now);
  r.record('budget', 'carol', now);
  const s = r.series(now);
  t.equal(s.length, 7 * 24, 'seven days of hours');
  t.equal(s[0].hour, new Date(Math.floor(now / HOUR - (7 * 24 - 1)) * HOUR).toISOString());
  t.equal(sum(s, 'rate_limit'), 3);
  t.equal(sum(s, 'budget'), 1);
  t.same(r.byUser(now), { bob: 2, alice: 1 }, 'rate-limit rejections by user, most first');
  const later = now + (7 * 24 - 1) * HOUR;
  t.same(r.byUser(later), { bob: 1 }, 'a week on, only the newest hour\'s');
  const s2 = r.series(later);
  t.equal(s2.length, 7 * 24, 'from that hour on');
  t.same([sum(s2, 'rate_limit'), sum(s2, 'budget')], [1, 1]);
  t.equal(r.series(later + HOUR).length, 24, 'and a quiet day\'s worth once it is gone too');
});
