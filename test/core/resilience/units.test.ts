/**
 * The mechanisms alone, on a fake clock and a fixed random source: breaker transitions,
 * the retry budget's arithmetic, backoff with full jitter and retry-after parsing, the
 * retry triggers, and the try order of a target list.
 */
import t from 'tap';
import { CircuitBreaker, type CircuitState } from '../../../core/resilience/breaker.js';
import { RetryBudget } from '../../../core/resilience/budget.js';
import { resolvePolicy, type BreakerSettings } from '../../../core/resilience/config.js';
import { backoffMs, breakerResult, retryAfterMs, retryReason } from '../../../core/resilience/retry.js';
import { TargetList, type Target } from '../../../core/resilience/targets.js';
import { timeoutError } from '../../../core/resilience/timeouts.js';
import { GatewayError } from '../../../core/errors.js';
import type { ProviderSlot } from '../../../core/pipeline.js';

const S: BreakerSettings = { consecutiveFailures: 3, errorRate: 0.5, windowMs: 1000, minRequests: 10, cooldownMs: 500, halfOpenProbes: 1 };

function breaker(): { b: CircuitBreaker; clock: { now: number }; moves: Array<[CircuitState, CircuitState]> } {
  const clock = { now: 0 };
  const moves: Array<[CircuitState, CircuitState]> = [];
  return { b: new CircuitBreaker((from, to) => moves.push([from, to]), () => clock.now), clock, moves };
}

t.test('breaker: consecutive failures open it; a success in between resets the count', async (t) => {
  const { b, moves } = breaker();
  b.record(S, 'failure', false);
  b.record(S, 'failure', false);
  b.record(S, 'success', false);
  b.record(S, 'failure', false);
  b.record(S, 'failure', false);
  t.equal(b.state(S), 'closed');
  b.record(S, 'failure', false);
  t.equal(b.state(S), 'open');
  t.same(moves, [['closed', 'open']]);
  t.equal(b.admit(S), 'reject');
});

t.test('breaker: half-open after the cool-down admits exactly the probes, and their result decides', async (t) => {
  const { b, clock, moves } = breaker();
  for (let i = 0; i < 3; i++) b.record(S, 'failure', false);
  clock.now = 499;
  t.equal(b.admit(S), 'reject');
  t.equal(b.retryInMs(S), 1);
  clock.now = 500;
  t.equal(b.admit(S), 'probe');
  t.equal(b.admit(S), 'reject', 'one probe at a time');
  b.record(S, 'neutral', true);
  t.equal(b.state(S), 'half_open', 'a 429 decides nothing');
  t.equal(b.admit(S), 'probe', 'and frees the probe slot');
  b.record(S, 'failure', true);
  t.equal(b.state(S), 'open');
  clock.now = 1000;
  t.equal(b.admit(S), 'probe');
  b.record(S, 'success', true);
  t.equal(b.state(S), 'closed');
  t.same(moves.map(([, to]) => to), ['open', 'half_open', 'open', 'half_open', 'closed']);
});

t.test('breaker: the error rate counts only the window', async (t) => {
  const { b, clock } = breaker();
  const rate: BreakerSettings = { ...S, consecutiveFailures: 100, minRequests: 4 };
  b.record(rate, 'failure', false);
  b.record(rate, 'failure', false);
  clock.now = 1500; // the two failures slid out of the 1 s window
  b.record(rate, 'success', false);
  b.record(rate, 'success', false);
  b.record(rate, 'failure', false);
  t.equal(b.state(rate), 'closed', '1 of 3 in the window, under min_requests anyway');
  b.record(rate, 'failure', false);
  t.equal(b.state(rate), 'open', '2 of 4 in the window');
});

t.test('retry budget: percent of the active requests, never under min_concurrency', async (t) => {
  const budget = new RetryBudget();
  const s = { percent: 20, minConcurrency: 1 };
  for (let i = 0; i < 10; i++) budget.enter();
  t.ok(budget.tryRetry(s));
  t.ok(budget.tryRetry(s));
  t.notOk(budget.tryRetry(s), '20 % of 10 is 2');
  budget.endRetry();
  t.ok(budget.tryRetry(s));
  for (let i = 0; i < 9; i++) budget.leave();
  budget.endRetry();
  budget.endRetry();
  t.ok(budget.tryRetry(s), 'min_concurrency with 1 active');
  t.notOk(budget.tryRetry(s));
});

t.test('backoff: full jitter under a doubling ceiling; retry-after wins, up to its cap', async (t) => {
  const p = resolvePolicy({ retry: { base_ms: 100, max_backoff_ms: 1000, max_retry_after_ms: 5000 } }, undefined);
  const err = { error: new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE') };
  t.equal(backoffMs(p, 1, err, () => 0.999), 99);
  t.equal(backoffMs(p, 3, err, () => 0.999), 399);
  t.equal(backoffMs(p, 8, err, () => 0.999), 999, 'capped at max_backoff_ms');
  t.equal(backoffMs(p, 3, err, () => 0), 0, 'full jitter reaches zero');
  const response = (headers: Record<string, string>) => ({ response: { status: 429, headers, body: null } });
  t.equal(backoffMs(p, 1, response({ 'retry-after': '2' })), 2000);
  t.equal(backoffMs(p, 1, response({ 'retry-after-ms': '150' })), 150);
  t.equal(backoffMs(p, 1, response({ 'retry-after': '6' })), undefined, 'longer than max_retry_after_ms: give up');
  t.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 7_000), 3000, 'an HTTP date');
  t.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined);
  // Read as core/retry-after.ts reads it on the translated path: the longest valid value, strict forms only.
  t.equal(retryAfterMs({ 'retry-after': ['2', '5'] }), 5000, 'a repeated header: the longest value, not the first');
  t.equal(retryAfterMs({ 'retry-after': ['soon', '3'] }), 3000, 'an unreadable first value does not hide a valid one');
  t.equal(retryAfterMs({ 'retry-after': '2, 5' }), 5000, 'two folded into one line');
  t.equal(retryAfterMs({ 'retry-after': '2026-12-02T08:00:10Z' }, Date.parse('2026-12-02T08:00:00Z')), undefined, 'not an HTTP-date, whatever Date.parse makes of it');
  t.equal(retryAfterMs({ 'retry-after': 'Dec 2 2026 08:00:10' }, Date.parse('2026-12-02T08:00:00Z')), undefined, 'nor a loose date');
  t.equal(retryAfterMs({ 'retry-after': '-1' }), undefined, 'a negative delay');
  t.equal(retryAfterMs({ 'retry-after': 'Wed, 02 Dec 2026 08:00:10 GMT', date: 'Wed, 02 Dec 2026 08:00:04 GMT' }), 6000, "a date read against the upstream's clock");
  t.equal(retryAfterMs({ 'retry-after-ms': ['soon', '150', '90'] }), 150, 'retry-after-ms: the longest valid value');
});

t.test('retry triggers and breaker results', async (t) => {
  const res = (status: number) => ({ response: { status, headers: {}, body: null } });
  const err = (code: string) => ({ error: new GatewayError(code) });
  t.equal(retryReason(res(429)), '429');
  t.equal(retryReason(res(529)), '5xx');
  t.equal(retryReason(res(503)), '5xx');
  t.equal(retryReason(res(501)), undefined);
  t.equal(retryReason(res(400)), undefined);
  t.equal(retryReason(err('GW_ERR_UPSTREAM_UNREACHABLE')), 'connection');
  t.equal(retryReason({ error: timeoutError('connect') }), 'connection');
  t.equal(retryReason({ error: timeoutError('headers') }), 'timeout');
  t.equal(retryReason({ error: timeoutError('total') }), undefined);
  t.equal(retryReason(err('GW_ERR_UPSTREAM_PROTOCOL')), undefined);
  t.equal(breakerResult(res(529)), 'failure');
  t.equal(breakerResult(res(429)), 'neutral');
  t.equal(breakerResult(res(404)), 'success');
  t.equal(breakerResult(err('GW_ERR_CLIENT_ABORT')), 'neutral');
  t.equal(breakerResult({ error: timeoutError('headers') }), 'failure');
});

t.test('target order: priorities ascending, weighted draw without replacement inside one', async (t) => {
  const slot = (name: string) => ({ name }) as ProviderSlot;
  const target = (name: string, weight: number, priority: number): Target => ({ name, slot: slot(name), weight, priority });
  const list = new TargetList([target('a', 3, 0), target('b', 1, 0), target('z', 1, 1)]);
  t.same(list.order(() => 0).map((x) => x.name), ['a', 'b', 'z']);
  t.same(list.order(() => 0.8).map((x) => x.name), ['b', 'a', 'z'], '0.8 × 4 = 3.2 falls in b');
  const counts = { a: 0, b: 0 };
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 4000; i++) counts[list.order(random)[0].name as 'a' | 'b']++;
  t.ok(Math.abs(counts.a - 3000) < 150, `3:1 (${counts.a}:${counts.b})`);
  t.same(TargetList.single(slot('only')).order().map((x) => x.name), ['only']);
});
