/**
 * Hostile and malformed requests, table-driven, over HTTP/1.1 (raw socket) and HTTP/2
 * (node:http2): each gets a clear 4xx or, where HTTP requires it, a closed connection;
 * nothing reaches the upstream (which records every request); no secret the gateway holds
 * appears in a response, a log line or an audit line; and the gateway keeps serving.
 * The randomized counterpart is fuzz.test.ts; test/core/http2.test.ts has the rapid-reset flood.
 */
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ALL_SECRETS, ask, OTHER_KEY, startProof, WORKSPACE, WORKSPACE_KEY, type Proof } from './support/harness.js';
import { h2, rawH1, type WireReply } from './support/wire.js';

const MSG = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const ID = `X-Workspace-ID: ${WORKSPACE}`;

/** An HTTP/1.1 request, byte for byte: `headers` as written, then Host and Connection: close unless given. */
function h1(method: string, target: string, headers: string[] = [ID, 'Content-Type: application/json'], body: string | Buffer = ''): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...(headers.some((h) => /^host:/i.test(h)) ? [] : ['Host: 127.0.0.1']), ...headers];
  if (body.length > 0 && !headers.some((h) => /^(content-length|transfer-encoding)/i.test(h))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  if (!headers.some((h) => /^connection:/i.test(h))) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), Buffer.from(body)]);
}
const post = (target: string, body: string | Buffer = MSG, headers: string[] = [ID, 'Content-Type: application/json']): Buffer => h1('POST', target, headers, body);

const nested = (depth: number, open: string, close: string): string => open.repeat(depth) + close.repeat(depth);
const invalidUtf8 = Buffer.concat([Buffer.from('{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}]}')]);
const M = '/v1/claude/v1/messages';

/** `as-mapped`: harmless, served at the one path it maps to (checked against the upstream's record). */
type Expect = 'client-error' | 'client-error-or-close' | 'as-mapped';
const H1_ROWS: Array<[string, Buffer, Expect]> = [
  // bodies
  ['malformed JSON', post(M, '{"model":'), 'client-error'],
  ['empty body', post(M, ''), 'client-error'],
  ['100k nested arrays', post(M, nested(100_000, '[', ']')), 'client-error'],
  ['50k nested objects', post(M, nested(50_000, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}')), 'client-error'],
  ['invalid UTF-8 in a string', post(M, invalidUtf8), 'client-error'],
  ['a JSON array, not an object', post(M, '[1,2,3]'), 'client-error'],
  ['form-encoded body', post(M, 'model=claude&max_tokens=1', [ID, 'Content-Type: application/x-www-form-urlencoded']), 'client-error'],
  ['oversized body (content-length)', post(M, 'x'.repeat(300_000)), 'client-error-or-close'],
  ['oversized body (chunked)', post(M, `${(300_000).toString(16)}\r\n${'x'.repeat(300_000)}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding: chunked']), 'client-error-or-close'],
  ['oversized header', post(M, MSG, [ID, `X-Big: ${'a'.repeat(10_000)}`]), 'client-error-or-close'],
  ['many headers', post(M, MSG, [ID, ...Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(30)}`)]), 'client-error-or-close'],
  ['oversized request target', h1('GET', `/v1/claude/v1/models?q=${'a'.repeat(10_000)}`), 'client-error-or-close'],
  // paths that could leave the upstream base path or host
  ['dot-dot', post('/v1/claude/../x'), 'client-error'],
  ['dot-dot inside the API path', post('/v1/claude/v1/../../admin'), 'client-error'],
  ['encoded dot-dot', post('/v1/claude/%2e%2e/%2e%2e/admin'), 'client-error'],
  ['mixed-case encoded dot-dot', post('/v1/claude/v1/%2E%2e/messages'), 'client-error'],
  ['double-encoded dot-dot', post('/v1/claude/v1/%252e%252e/messages'), 'client-error'],
  ['encoded slash', post('/v1/claude/v1%2fmessages'), 'client-error'],
  ['encoded backslash dot-dot', post('/v1/claude/v1/..%5cmessages'), 'client-error'],
  ['double slash (collapsed, same upstream path)', post('/v1/claude//v1/messages'), 'as-mapped'],
  ['double slash to a host', post('/v1/claude//evil.example/v1/messages'), 'client-error'],
  ['trailing dot segment', post('/v1/claude/v1/messages/.'), 'client-error'],
  ['NUL in the path', post('/v1/claude/v1/messages%00'), 'client-error'],
  ['Bedrock model id with dot-dot', post('/v1/bedrock/model/..%2f..%2fadmin/invoke'), 'client-error'],
  ['OpenAI dot-dot', post('/v1/openai/v1/../../v1/claude/v1/messages'), 'client-error'],
  ['absolute-form target, foreign host', h1('POST', 'http://evil.example/v1/messages', [ID, 'Content-Type: application/json'], MSG), 'client-error'],
  ['absolute-form target, gateway path', h1('POST', 'http://evil.example/v1/claude/v1/messages', [ID, 'Content-Type: application/json'], MSG), 'client-error'],
  ['authority-form CONNECT', h1('CONNECT', 'evil.example:443', [ID]), 'client-error-or-close'],
  ['asterisk-form', h1('OPTIONS', '*', [ID]), 'client-error'],
  ['relative target without a slash', h1('POST', 'v1/claude/v1/messages', [ID], MSG), 'client-error-or-close'],
  // header syntax
  ['bare LF inside a header value', post(M, MSG, [ID, 'X-A: one\nInjected: yes']), 'client-error-or-close'],
  ['bare CR inside a header value', post(M, MSG, [ID, 'X-A: one\rInjected: yes']), 'client-error-or-close'],
  ['NUL inside a header value', post(M, MSG, [ID, 'X-A: one\u0000two']), 'client-error-or-close'],
  ['space before the colon', post(M, MSG, [ID, 'X-A : one']), 'client-error-or-close'],
  ['obs-fold continuation line', post(M, MSG, [ID, 'X-A: one', ' folded']), 'client-error-or-close'],
  ['no Host header', Buffer.from(`POST ${M} HTTP/1.1\r\n${ID}\r\nContent-Length: ${MSG.length}\r\nConnection: close\r\n\r\n${MSG}`), 'client-error-or-close'],
  ['two Host headers', post(M, MSG, [ID, 'Host: a.example', 'Host: b.example']), 'client-error-or-close'],
  ['garbage request line', Buffer.from('GARBAGE\r\n\r\n'), 'client-error-or-close'],
  ['HTTP/2 preface fragment then HTTP/1.1', Buffer.from(`PRI ${M} HTTP/1.1\r\nHost: x\r\n\r\n`), 'client-error-or-close'],
  // request smuggling shapes
  ['CL + TE', post(M, `${MSG.length.toString(16)}\r\n${MSG}\r\n0\r\n\r\n`, [ID, `Content-Length: ${MSG.length}`, 'Transfer-Encoding: chunked']), 'client-error-or-close'],
  ['TE + CL', post(M, `${MSG.length.toString(16)}\r\n${MSG}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding: chunked', `Content-Length: ${MSG.length}`]), 'client-error-or-close'],
  ['two content-lengths that differ', post(M, MSG, [ID, `Content-Length: ${MSG.length}`, `Content-Length: ${MSG.length + 5}`]), 'client-error-or-close'],
  ['content-length list', post(M, MSG, [ID, `Content-Length: ${MSG.length}, ${MSG.length}`]), 'client-error-or-close'],
  ['signed content-length', post(M, MSG, [ID, `Content-Length: +${MSG.length}`]), 'client-error-or-close'],
  ['Transfer-Encoding: chunked, identity', post(M, `${MSG.length.toString(16)}\r\n${MSG}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding: chunked, identity']), 'client-error-or-close'],
  ['Transfer-Encoding: identity', post(M, MSG, [ID, 'Transfer-Encoding: identity']), 'client-error-or-close'],
  ['Transfer-Encoding: xchunked', post(M, MSG, [ID, 'Transfer-Encoding: xchunked']), 'client-error-or-close'],
  ['obs-folded Transfer-Encoding', post(M, `${MSG.length.toString(16)}\r\n${MSG}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding:', ' chunked']), 'client-error-or-close'],
  ['bad chunk size', post(M, `zz\r\n${MSG}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding: chunked']), 'client-error-or-close'],
  ['chunk extension with a bare LF', post(M, `${MSG.length.toString(16)};x\n\r\n${MSG}\r\n0\r\n\r\n`, [ID, 'Transfer-Encoding: chunked']), 'client-error-or-close'],
  // identity
  ['unknown workspace', post(M, MSG, ['X-Workspace-ID: ws-nobody', 'Content-Type: application/json']), 'client-error'],
  ['no identity at all', post(M, MSG, ['Content-Type: application/json']), 'client-error'],
  ['another workspace\'s key with my id', post(M, MSG, [ID, `x-api-key: ${OTHER_KEY}`, 'Content-Type: application/json']), 'client-error'],
  ['a forged key', post(M, MSG, [ID, `x-api-key: ${WORKSPACE_KEY.slice(0, -4)}AAAA`, 'Content-Type: application/json']), 'client-error'],
  ['two different X-Workspace-ID headers', post(M, MSG, [ID, 'X-Workspace-ID: ws-proof-2', 'Content-Type: application/json']), 'client-error'],
  ['two different keys', post(M, MSG, [`x-api-key: ${WORKSPACE_KEY}`, `x-api-key: ${OTHER_KEY}`, 'Content-Type: application/json']), 'client-error'],
];

function check(t: Test, proof: Proof, label: string, got: WireReply, expect: Expect, seenBefore: number): void {
  if (expect === 'as-mapped') {
    t.same(proof.upstream.seen.slice(seenBefore).map((s) => s.url), got.status === 200 ? ['/v1/messages'] : [], `${label}: ${got.status}, and only /v1/messages upstream`);
    return;
  }
  const ok = got.status >= 400 && got.status < 500;
  t.ok(ok || (expect === 'client-error-or-close' && got.status === 0 && got.closed), `${label}: ${got.status || 'connection closed'}`);
  t.equal(proof.upstream.seen.length, seenBefore, `${label}: nothing reached the upstream`);
  const leaked = ALL_SECRETS.filter((s) => got.text.includes(s));
  t.same(leaked, [], `${label}: no secret in the response`);
}

async function stillServing(t: Test, proof: Proof, batch: string): Promise<void> {
  t.equal((await fetch(`${proof.url}/health`)).status, 200, `${batch}: /health after the batch`);
  t.equal((await ask(proof.url, 'anthropic', `${batch}-after`)).status, 200, `${batch}: a real request after the batch`);
}

function noSecretsAtRest(t: Test, proof: Proof): void {
  const logs = JSON.stringify(proof.logs);
  const audit = readFileSync(path.join(proof.dir, 'audit.log'), 'utf8');
  t.same(ALL_SECRETS.filter((s) => logs.includes(s) || audit.includes(s)), [], 'no secret in any log or audit line');
}

t.test('HTTP/1.1 over a raw socket', async (t) => {
  const proof = await startProof(t);
  // A control: the raw client can succeed, and the upstream records what it got.
  const control = await rawH1(proof.gateway.port, post(M));
  t.equal(control.status, 200, 'control request served');
  t.equal(proof.upstream.seen.at(-1)?.url, '/v1/messages', 'control reached the mapped path');
  for (const [label, bytes, expect] of H1_ROWS) {
    const before = proof.upstream.seen.length;
    check(t, proof, label, await rawH1(proof.gateway.port, bytes), expect, before);
  }
  await stillServing(t, proof, 'h1');
  t.ok(proof.upstream.seen.every((s) => ['/v1/messages'].includes(s.url)), 'the upstream only ever saw /v1/messages');
  noSecretsAtRest(t, proof);
  t.comment(`HTTP/1.1 shapes tried: ${H1_ROWS.length}`);
});

const H2_PATHS = ['/v1/claude/../x', '/v1/claude/%2e%2e/admin', '/v1/claude/v1%2fmessages', '/v1/claude//v1/messages', '/v1/bedrock/model/..%2fx/invoke', 'http://evil.example/v1/messages'];
const h2Headers = (p: string, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders => ({ ':method': 'POST', ':path': p, 'content-type': 'application/json', 'x-workspace-id': WORKSPACE, ...extra });

t.test('HTTP/2 with node:http2', async (t) => {
  const proof = await startProof(t, { server: '  http2: { max_concurrent_streams: 20, max_header_list_size: 16384 }' });
  const rows: Array<[string, () => Promise<WireReply>]> = [
    ...H2_PATHS.map((p): [string, () => Promise<WireReply>] => [`path ${p}`, () => h2(proof.url, h2Headers(p), MSG)]),
    ['malformed JSON', () => h2(proof.url, h2Headers(M), '{"model":')],
    ['100k nested arrays', () => h2(proof.url, h2Headers(M), nested(100_000, '[', ']'))],
    ['invalid UTF-8', () => h2(proof.url, h2Headers(M), invalidUtf8)],
    ['oversized body', () => h2(proof.url, h2Headers(M), 'x'.repeat(300_000))],
    ['header list over the advertised limit', () => h2(proof.url, h2Headers(M, { 'x-big': 'a'.repeat(20_000) }), MSG)],
    ['many headers (CONTINUATION frames)', () => h2(proof.url, h2Headers(M, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'v'.repeat(40)]))), MSG)],
    ['unknown workspace', () => h2(proof.url, h2Headers(M, { 'x-workspace-id': 'ws-nobody' }), MSG)],
    ['another workspace\'s key', () => h2(proof.url, h2Headers(M, { 'x-api-key': OTHER_KEY }), MSG)],
    ['two X-Workspace-ID values', () => h2(proof.url, h2Headers(M, { 'x-workspace-id': [WORKSPACE, 'ws-proof-2'] }), MSG)],
    ['a client-sent content-length that lies', () => h2(proof.url, h2Headers(M, { 'content-length': '5' }), MSG)],
  ];
  for (const [label, send] of rows) {
    const before = proof.upstream.seen.length;
    check(t, proof, `h2 ${label}`, await send(), label.includes('//') ? 'as-mapped' : 'client-error-or-close', before);
  }
  await stillServing(t, proof, 'h2 single');

  // A stream flood past max_concurrent_streams on one session: nothing crashes, the rest is refused or queued.
  const session = http2.connect(proof.url, { peerMaxConcurrentStreams: 1000 });
  session.on('error', () => undefined);
  const flood = await Promise.all(
    Array.from({ length: 300 }, () =>
      new Promise<number>((resolve) => {
        const s = session.request({ ':method': 'GET', ':path': '/health' });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', () => resolve(0));
        s.on('close', () => resolve(0));
        s.resume();
      }),
    ),
  );
  session.destroy();
  t.ok(flood.every((s) => s === 200 || s === 0), `stream flood: ${flood.filter((s) => s === 200).length} served, ${flood.filter((s) => s === 0).length} refused`);
  // Rapid resets: the offending session ends (test/core/http2.test.ts measures it); the gateway does not.
  const resets = http2.connect(proof.url);
  resets.on('error', () => undefined);
  await new Promise((r) => resets.once('connect', r));
  for (let i = 0; i < 2000 && !resets.destroyed && !resets.closed; i++) {
    const s = resets.request(h2Headers(M));
    s.on('error', () => undefined);
    s.close(http2.constants.NGHTTP2_CANCEL);
  }
  resets.destroy();
  await stillServing(t, proof, 'h2 abuse');
  t.ok(proof.upstream.seen.every((s) => s.url === '/v1/messages'), 'the upstream only ever saw /v1/messages');
  noSecretsAtRest(t, proof);
  t.comment(`HTTP/2 shapes tried: ${rows.length + 2}`);
});
