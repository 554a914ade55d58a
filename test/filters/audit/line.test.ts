/**
 * The audit line is written field by field; it must be exactly the JSON of the record in
 * the documented field order (seed fields first), for every shape of request and text.
 */
import t from 'tap';
import { Context } from '../../../core/context.js';
import { plainDialect } from '../../../core/dialect.js';
import type { Outcome } from '../../../core/types.js';
import { CACHE_HIT } from '../../../filters/cache/slot.js';
import { auditLine, type AuditAccounting, type AuditContent } from '../../../filters/audit/record.js';

/** The record as an object, in the documented order: what the line must serialize. */
function expected(ctx: Context, o: Outcome, now: Date, content?: AuditContent, accounting?: AuditAccounting): Record<string, unknown> {
  const id = ctx.identity;
  const u = o.usage;
  const r: Record<string, unknown> = {
    timestamp: now.toISOString(), event: 'ai_request', user: id?.user ?? null, workspace: id?.workspace ?? null,
    provider: o.provider ?? null, model: o.model ?? null, tokens_in: u.inputTokens, tokens_out: u.outputTokens,
    latency_ms: Math.round(o.durationMs), status: o.status, request_id: ctx.id, route: ctx.route.name, stream: o.stream,
    error: o.error?.code ?? null, cache_creation_tokens: u.cacheCreationTokens, cache_read_tokens: u.cacheReadTokens,
    project: id?.project ?? null, auth: id?.source ?? null, method: ctx.method, path: ctx.path,
    error_kind: o.error?.kind ?? null, replied_by: o.repliedBy ?? null, cache_hit: ctx.get(CACHE_HIT) === true,
    ttfb_ms: o.ttfbMs === undefined ? null : Math.round(o.ttfbMs), upstream_ms: Math.round(o.upstreamMs),
    bytes_in: o.bytesIn, bytes_out: o.bytesOut, target: o.target ?? null, attempts: o.attempts ?? 0,
  };
  if (o.usageEstimated) r.tokens_estimated = true;
  if (accounting) {
    r.cost_usd = accounting.costUsd;
    if (accounting.priceMissing) r.price_missing = true;
    r.session = accounting.session;
  }
  if (content) {
    r.prompt = content.prompt;
    r.completion = content.completion;
  }
  return r;
}

function context(id: string, path: string): Context {
  return new Context({
    id, method: 'POST', path, query: 'key=secret', headers: {}, httpVersion: '1.1', remoteAddress: '127.0.0.1',
    route: { name: 'anthropic', mode: 'passthrough', provider: 'anthropic', prefix: '/v1/claude' }, subpath: '/v1/messages',
    dialect: plainDialect, arrivedAt: 0,
  });
}

const now = new Date('2026-11-28T07:00:00.123Z');
const usage = { inputTokens: 250, outputTokens: 12, cacheCreationTokens: 3, cacheReadTokens: 4 };

t.test('an admitted request with identity, cost and content', async (t) => {
  const ctx = context('req-1', '/v1/claude/v1/messages');
  ctx.identity = { user: 'alice "the admin"', workspace: 'ws-ü', project: 'p\\1', source: 'key' };
  ctx.set(CACHE_HIT, true);
  const o: Outcome = { status: 200, provider: 'anthropic', model: 'claude-x', stream: true, usage, bytesIn: 1024, bytesOut: 99, durationMs: 12.5, ttfbMs: 3.49, upstreamMs: 10.2, target: 'anthropic', attempts: 2 };
  const content = { prompt: 'line\nbreak\ttab \u2028 \u0001 "quoted" 😀', completion: null };
  const accounting = { costUsd: 0.000123, priceMissing: false, session: 'sess-1' };
  const line = auditLine(ctx, o, now, content, accounting);
  t.equal(line, JSON.stringify(expected(ctx, o, now, content, accounting)));
});

t.test('a refused request: no identity, an error, no ttfb, an unpriced model', async (t) => {
  const ctx = context('req-2', '/nope');
  const o: Outcome = { status: 401, error: { kind: 'rejected', code: 'GW_ERR_AUTH_MISSING', message: 'x' }, repliedBy: 'auth', stream: false, usage: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }, bytesIn: 0, bytesOut: 120, durationMs: 0.4, upstreamMs: 0 };
  for (const accounting of [undefined, { costUsd: 0, priceMissing: true, session: null }]) {
    const line = auditLine(ctx, o, now, undefined, accounting);
    t.equal(line, JSON.stringify(expected(ctx, o, now, undefined, accounting)));
  }
});

t.test('a stream cut before its usage report: tokens_estimated, only then', async (t) => {
  const ctx = context('req-3', '/v1/claude/v1/messages');
  const o: Outcome = { status: 499, error: { kind: 'client_abort', code: 'GW_ERR_CLIENT_ABORT', message: 'x' }, provider: 'anthropic', stream: true, usage, usageEstimated: true, bytesIn: 10, bytesOut: 500, durationMs: 3, upstreamMs: 2 };
  const line = auditLine(ctx, o, now, undefined, { costUsd: 0.1, priceMissing: false, session: null });
  t.equal(line, JSON.stringify(expected(ctx, o, now, undefined, { costUsd: 0.1, priceMissing: false, session: null })));
  t.match(JSON.parse(line), { tokens_estimated: true });
  t.notOk('tokens_estimated' in JSON.parse(auditLine(ctx, { ...o, usageEstimated: undefined }, now, undefined)), 'absent on reported counts');
});

t.test('every field escapes what JSON.stringify escapes, and only that', async (t) => {
  for (const odd of ['lone \ud800 high', 'lone \udfff low', 'pair 😀', 'del \u007f', 'nul \u0000', 'q"b\\', '\u2028\u2029', 'é✓', '']) {
    const ctx = context(`id-${odd}`, `/p/${odd}`);
    ctx.identity = { user: odd, workspace: odd, project: odd, source: 'key' };
    const o: Outcome = { status: 200, provider: odd, model: odd, stream: false, usage, bytesIn: 1, bytesOut: 1, durationMs: 1, upstreamMs: 1, target: odd };
    const accounting = { costUsd: 0, priceMissing: false, session: odd };
    // The label escapes everything past ASCII: a raw U+2028 would break the TAP line it is on.
    t.equal(auditLine(ctx, o, now, undefined, accounting), JSON.stringify(expected(ctx, o, now, undefined, accounting)), escape(odd));
  }
});

t.test('repeated values (remembered quoted), past the memo\'s bounds, stay exact', async (t) => {
  const odd = ['q"b\\', 'nul \u0000', 'lone \ud800', 'plain', 'é✓'];
  let mismatches = 0;
  // 3,000 distinct paths and sessions (past the memo's 1,024 entries) among repeated names,
  // and values longer than it keeps: each line must still be JSON.stringify's.
  for (let i = 0; i < 3000; i++) {
    const v = odd[i % odd.length];
    const long = i % 7 === 0 ? `${v}${'x'.repeat(300)}${i}` : v;
    const ctx = context(`req-${i}`, `/v1/${v}/${i % 1500}`);
    ctx.identity = { user: v, workspace: long, project: odd[(i + 1) % odd.length], source: 'key' };
    const o: Outcome = { status: 200, provider: 'anthropic', model: long, stream: false, usage, bytesIn: 1, bytesOut: 1, durationMs: 1, upstreamMs: 1, target: v };
    const accounting = { costUsd: 0, priceMissing: false, session: `s-${v}-${i}` };
    if (auditLine(ctx, o, now, undefined, accounting) !== JSON.stringify(expected(ctx, o, now, undefined, accounting))) mismatches++;
  }
  t.equal(mismatches, 0);
});

t.test('consecutive lines differing in any one shared field each get their own', async (t) => {
  interface Change {
    identity?: Context['identity'];
    path?: string;
    route?: string;
    outcome?: Partial<Outcome>;
  }
  const line = (change: Change) => {
    const ctx = new Context({
      id: 'req-x', method: 'POST', path: change.path ?? '/v1/claude/v1/messages', query: '', headers: {}, httpVersion: '1.1', remoteAddress: '127.0.0.1',
      route: { name: change.route ?? 'anthropic', mode: 'passthrough', provider: 'anthropic', prefix: '/v1/claude' }, subpath: '/v1/messages',
      dialect: plainDialect, arrivedAt: 0,
    });
    ctx.identity = 'identity' in change ? change.identity : { user: 'u', workspace: 'w', project: 'p', source: 'key' };
    const o: Outcome = { status: 200, provider: 'anthropic', model: 'm', stream: false, usage, bytesIn: 1, bytesOut: 1, durationMs: 1, upstreamMs: 1, target: 't', repliedBy: 'upstream', ...change.outcome };
    return { got: auditLine(ctx, o, now, undefined), want: JSON.stringify(expected(ctx, o, now)) };
  };
  const id = { user: 'u', workspace: 'w', project: 'p', source: 'key' as const };
  const changes: Array<[string, Change]> = [
    ['user', { identity: { ...id, user: 'u2' } }],
    ['workspace', { identity: { ...id, workspace: 'w2' } }],
    ['no identity', { identity: undefined }],
    ['provider', { outcome: { provider: 'openai' } }],
    ['model', { outcome: { model: undefined } }],
    ['route', { route: 'other' }],
    ['stream', { outcome: { stream: true } }],
    ['error', { outcome: { error: { kind: 'upstream_status', code: 'GW_ERR_UPSTREAM', message: 'x' } } }],
    ['project', { identity: { ...id, project: 'p2' } }],
    ['auth', { identity: { ...id, source: 'header' } }],
    ['path', { path: '/v1/claude/v1/messages/count_tokens' }],
    ['replied_by', { outcome: { repliedBy: 'cache' } }],
  ];
  for (const [name, change] of changes) {
    // The plain line, then the changed one, then the plain one again.
    for (const [label, c] of [['as before', {}], ['changed', change], ['as before again', {}]] as const) {
      const { got, want } = line(c);
      t.equal(got, want, `${name}: ${label}`);
    }
  }
});

t.test('numbers JSON cannot hold are null, as JSON.stringify writes them', async (t) => {
  const ctx = context('req-3', '/v1/claude/v1/messages');
  const o: Outcome = { status: 200, stream: false, usage, bytesIn: 1, bytesOut: 1, durationMs: Number.NaN, upstreamMs: Infinity };
  const accounting = { costUsd: Number.NaN, priceMissing: false, session: null };
  t.equal(auditLine(ctx, o, now, undefined, accounting), JSON.stringify(expected(ctx, o, now, undefined, accounting)));
});
