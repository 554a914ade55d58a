/**
 * Randomized bad input with a fixed seed (so a failure replays exactly): requests built
 * from hostile pieces — methods, path segments (dot-dot, encoded separators, NUL, foreign
 * hosts), identity variants, framing mutations and body mutations — over HTTP/1.1 raw
 * sockets and HTTP/2. Invariants for every case: no 5xx from the gateway itself, nothing
 * reaches the upstream outside the API paths or with a client credential, no secret in
 * any response, log or audit line; and the gateway keeps serving.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ALL_SECRETS, ask, OTHER_KEY, startProof, WORKSPACE, WORKSPACE_KEY } from './support/harness.js';
import { h2, rawH1 } from './support/wire.js';
import { mulberry32 } from '../helpers/prng.js';

const SEED = 0x5eed2026;
const CASES = 1200;

const METHODS = ['POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'FOO'];
const PREFIXES = ['/v1/claude', '/v1/claude/v1', '/v1/openai/v1', '/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0', '/v1/chat/completions', '/v1/echo/v1', '', '/v1/gemini/v1beta'];
const SEGMENTS = ['messages', 'messages', 'invoke', 'chat', 'completions', 'count_tokens', 'models', '..', '.', '%2e%2e', '%2E.', '.%2e', '%2f', '%5c', '', 'x%00', 'evil.example', '%252e%252e', '..;', '%c0%ae%c0%ae', '\u00e9', 'admin'];
const IDENTITIES = ['valid', 'valid', 'none', 'unknown', 'other-key', 'forged-key', 'two-ids', 'key-and-other-id'] as const;
const FRAMING = ['plain', 'plain', 'plain', 'cl+te', 'two-cl', 'te-list', 'obs-fold', 'bare-cr', 'long-header', 'te-chunked'] as const;
const BODIES = ['valid', 'valid', 'truncated', 'flipped', 'bad-utf8', 'nested', 'empty', 'huge', 'array', 'stream'] as const;
const MSG = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

/**
 * Containment: pass-through forwards any path under a provider's prefix, so the invariant
 * is not a path list but that the path (as the upstream will decode it) cannot climb or
 * split: no `.`/`..` segment, no empty segment but a trailing one, no slash or backslash inside a segment.
 */
function contained(url: string): boolean {
  const p = url.split('?')[0];
  if (!p.startsWith('/')) return false;
  const segs = p.slice(1).split('/');
  return segs.every((seg, i) => {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      d = seg;
    }
    return (seg !== '' || i === segs.length - 1) && d !== '.' && d !== '..' && !d.includes('/') && !d.includes('\\') && !d.includes('\0');
  });
}

t.test(`randomized bad input, seed ${SEED.toString(16)}, ${CASES} cases`, async (t) => {
  const proof = await startProof(t);
  const rand = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const shapes = new Set<string>();
  const failures: string[] = [];
  let sent = 0;
  let closedWithout = 0;

  for (let i = 0; i < CASES; i++) {
    const transport = rand() < 0.6 ? 'h1' : 'h2';
    const method = pick(METHODS);
    const segs = Array.from({ length: Math.floor(rand() * 4) }, () => pick(SEGMENTS));
    const target = pick(PREFIXES) + (segs.length ? '/' + segs.join('/') : '');
    const identity = pick(IDENTITIES);
    const framing = transport === 'h1' ? pick(FRAMING) : 'plain';
    const bodyKind = pick(BODIES);
    shapes.add([transport, method, segs.map((s) => (s === 'messages' || s === 'invoke' ? s : s ? 'odd' : 'empty')).join('/'), identity, framing, bodyKind].join('|'));

    let body: Buffer = Buffer.from(JSON.stringify(MSG));
    if (bodyKind === 'truncated') body = body.subarray(0, Math.floor(rand() * body.length));
    else if (bodyKind === 'flipped') body = Buffer.from(body.map((b) => (rand() < 0.05 ? Math.floor(rand() * 256) : b)));
    else if (bodyKind === 'bad-utf8') body = Buffer.concat([body.subarray(0, 60), Buffer.from([0xff, 0xc0, 0x80]), body.subarray(60)]);
    else if (bodyKind === 'nested') body = Buffer.from('['.repeat(1 + Math.floor(rand() * 100_000)));
    else if (bodyKind === 'empty') body = Buffer.alloc(0);
    else if (bodyKind === 'huge') body = Buffer.alloc(300_000, 0x20);
    else if (bodyKind === 'array') body = Buffer.from('[' + JSON.stringify(MSG) + ']');
    else if (bodyKind === 'stream') body = Buffer.from(JSON.stringify({ ...MSG, stream: true }));

    const headers: Array<[string, string]> = [['content-type', 'application/json'], ['x-request-id', `fuzz-${i}`]];
    if (identity === 'valid') headers.push(['x-workspace-id', WORKSPACE]);
    if (identity === 'unknown') headers.push(['x-workspace-id', 'ws-nobody']);
    if (identity === 'other-key') headers.push(['x-api-key', OTHER_KEY]);
    if (identity === 'forged-key') headers.push(['x-api-key', WORKSPACE_KEY.slice(0, -3) + 'zzz']);
    if (identity === 'two-ids') headers.push(['x-workspace-id', WORKSPACE], ['x-workspace-id', 'ws-proof-2']);
    if (identity === 'key-and-other-id') headers.push(['x-workspace-id', WORKSPACE], ['authorization', `Bearer ${OTHER_KEY}`]);

    const before = proof.upstream.seen.length;
    let status = 0;
    let text = '';
    if (transport === 'h1') {
      const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
      let payload = body;
      if (framing === 'plain' || framing === 'long-header' || framing === 'bare-cr' || framing === 'obs-fold') lines.push(`Content-Length: ${body.length}`);
      if (framing === 'cl+te') lines.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked');
      if (framing === 'two-cl') lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
      if (framing === 'te-list') lines.push('Transfer-Encoding: chunked, identity');
      if (framing === 'obs-fold') lines.push('X-Folded: a', ' b');
      if (framing === 'bare-cr') lines.push('X-Cr: a\rb');
      if (framing === 'long-header') lines.push(`X-Long: ${'h'.repeat(9000)}`);
      if (framing === 'te-chunked') {
        lines.push('Transfer-Encoding: chunked');
        payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      }
      lines.push('Connection: close');
      const r = await rawH1(proof.gateway.port, Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]), 2000);
      status = r.status;
      text = r.text;
    } else {
      const h: Record<string, string | string[]> = { ':method': method, ':path': target.startsWith('/') ? target : '/' + target };
      for (const [k, v] of headers) h[k] = h[k] ? [h[k] as string, v].flat() : v;
      const r = await h2(proof.url, h, method === 'GET' || method === 'HEAD' ? undefined : body, 2000);
      status = r.status;
      text = r.text;
    }
    sent++;
    if (status === 0) closedWithout++;
    const label = `case ${i} (${transport} ${method} ${target} id=${identity} framing=${framing} body=${bodyKind})`;
    if (status >= 500) failures.push(`${label}: gateway answered ${status}`);
    for (const s of proof.upstream.seen.slice(before)) {
      if (!contained(s.url)) failures.push(`${label}: upstream saw ${s.method} ${s.url}`);
      const forwarded = JSON.stringify(s.headers);
      if (forwarded.includes(WORKSPACE_KEY) || forwarded.includes(OTHER_KEY)) failures.push(`${label}: a workspace key reached the upstream`);
      if (s.headers.host !== new URL(proof.upstream.url).host) failures.push(`${label}: upstream host ${s.headers.host}`);
    }
    const leaked = ALL_SECRETS.filter((x) => text.includes(x));
    if (leaked.length) failures.push(`${label}: secret in the response`);
    if (i % 50 === 49) {
      const health = await fetch(`${proof.url}/health`);
      const real = await ask(proof.url, 'anthropic', `fuzz-check-${i}`);
      if (health.status !== 200 || real.status !== 200) failures.push(`after case ${i}: health ${health.status}, real request ${real.status}`);
    }
  }
  t.same(failures, [], 'every invariant held');
  const logs = JSON.stringify(proof.logs);
  const audit = readFileSync(path.join(proof.dir, 'audit.log'), 'utf8');
  t.same(ALL_SECRETS.filter((s) => logs.includes(s) || audit.includes(s)), [], 'no secret in any log or audit line');
  t.equal((await ask(proof.url, 'openai', 'fuzz-final')).status, 200, 'still serving at the end');
  t.comment(`${sent} requests, ${shapes.size} distinct shapes, ${closedWithout} closed without a response, ${proof.upstream.seen.length} reached the upstream, every one contained`);
});
