/**
 * File uploads (a provider's `isUpload` endpoints) stream to the upstream under
 * `server.max_upload_bytes`, past `max_body_bytes`, without being held: the real SDKs'
 * uploads over 32 MiB arrive whole, a slow upstream slows the client, a client that goes
 * away cancels the upstream request, refusals and upstream failures answer in the route's
 * dialect, and every upload is audited with its bytes.
 */
import http from 'node:http';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import t from 'tap';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { ANTHROPIC_KEY, OPENAI_KEY, startUploadGateway } from '../helpers/upload.js';

const CLIENT_KEY = 'sk-client-should-never-leave-0000';
const MIB = 1024 * 1024;
const BETA = 'files-api-2025-04-14';

async function setup(t: { teardown(fn: () => unknown): void }, server = '', filters = '') {
  const { anthropic, sink, openaiSink, gw } = await startUploadGateway(t, { server: `  max_body_bytes: 1048576\n${server}`, openai: true, filters, extra: 'workspaces:\n  ws-1: { user: alice }' });
  return { anthropic, sinkA: sink, sinkO: openaiSink!, gw };
}

/** A request whose body the test writes itself; resolves with the answer, or the error that cut it. */
function send(url: string, headers: Record<string, string>, write: (req: http.ClientRequest) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | Error> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', resolve);
    });
    req.on('error', resolve);
    write(req);
  });
}

t.test('the real SDKs upload 40 MiB through a gateway whose max_body_bytes is 1 MiB', async (t) => {
  const { sinkA, sinkO, gw } = await setup(t);
  const file = Buffer.alloc(40 * MIB, 0x41);

  const claude = new Anthropic({ baseURL: `${gw.url}/v1/claude`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const up = await claude.beta.files.upload({ file: await toFile(file, 'big.pdf', { type: 'application/pdf' }), betas: [BETA] }).withResponse();
  const a = sinkA.last!;
  t.ok(a.complete, 'anthropic: the upload arrived to its end');
  t.ok(a.bytes > file.length, 'anthropic: the whole multipart body (file and its framing)');
  t.equal(up.data.size_bytes, a.bytes, "anthropic: the upstream's answer reached the SDK");
  t.equal(a.headers['x-api-key'], ANTHROPIC_KEY, "anthropic: the gateway's key, not the client's");
  t.equal(a.headers['content-length'], String(a.bytes), 'anthropic: the length the client declared went upstream');
  const ra = await outcomeFor(up.response.headers.get('x-request-id')!);
  t.equal(ra.kind, 'auxiliary');
  t.equal(ra.outcome.status, 200);
  t.equal(ra.outcome.bytesIn, a.bytes, 'anthropic: the outcome (audit bytes_in) counts the bytes streamed');

  const gpt = new OpenAI({ baseURL: `${gw.url}/v1/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const created = await gpt.files.create({ file: await toFile(file, 'big.jsonl'), purpose: 'assistants' }).withResponse();
  const o = sinkO.last!;
  t.ok(o.complete && o.bytes > file.length, 'openai: the whole multipart body arrived');
  t.equal(created.data.bytes, o.bytes);
  t.equal(o.headers.authorization, `Bearer ${OPENAI_KEY}`);
  const ro = await outcomeFor(created.response.headers.get('x-request-id')!);
  t.equal(ro.outcome.bytesIn, o.bytes);

  // Uploads parts too; a generation's body is still held to max_body_bytes.
  const part = await send(`${gw.url}/v1/openai/v1/uploads/upload_abc/parts`, { 'content-type': 'application/octet-stream', 'content-length': String(2 * MIB) }, (req) => req.end(Buffer.alloc(2 * MIB)));
  t.match(part, { status: 200 }, 'openai: an upload part past max_body_bytes');
  const gen = await send(`${gw.url}/v1/openai/v1/chat/completions`, { 'content-type': 'application/json', 'content-length': String(2 * MIB) }, (req) => req.end(Buffer.alloc(2 * MIB, 0x20)));
  t.match(gen, { status: 413 }, 'a generation never takes the upload path');
});

t.test('max_upload_bytes: a declared length past it is refused before the upstream is called, a chunked one as it passes', async (t) => {
  const { sinkA, anthropic, gw } = await setup(t, '  max_upload_bytes: 4194304');
  const headers = { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': BETA, 'content-type': 'multipart/form-data; boundary=x' };
  const declared = await send(`${gw.url}/v1/claude/v1/files`, { ...headers, 'content-length': String(5 * MIB), expect: '100-continue' }, (req) => {
    req.on('continue', () => req.end(Buffer.alloc(5 * MIB)));
    req.flushHeaders();
  });
  t.match(declared, { status: 413 });
  t.match(JSON.parse((declared as { body: string }).body), { type: 'error', error: { type: 'request_too_large' } }, "Anthropic's error shape");
  t.equal(sinkA.uploads.length + anthropic.requests.length, 0, 'the upstream was never called');

  const chunked = await send(`${gw.url}/v1/claude/v1/files`, headers, (req) => {
    const chunk = Buffer.alloc(MIB);
    let sent = 0;
    const more = (): void => {
      while (sent < 6) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', more);
      }
      req.end();
    };
    more();
  });
  if (chunked instanceof Error) t.fail(`cut instead of answered: ${chunked.message}`);
  else {
    t.equal(chunked.status, 413, 'chunked: refused once it passed the limit');
    t.match(JSON.parse(chunked.body), { type: 'error', error: { type: 'request_too_large' } });
    const rec = await outcomeFor(String(chunked.headers['x-request-id']));
    t.equal(rec.outcome.error?.code, 'GW_ERR_REQUEST_TOO_LARGE');
  }
  await sinkA.last?.done;
  t.notOk(sinkA.last?.complete, 'the upstream request was cut, not completed');

  const under = await send(`${gw.url}/v1/claude/v1/files`, headers, (req) => req.end(Buffer.alloc(3 * MIB)));
  t.match(under, { status: 200 }, 'chunked, under max_upload_bytes though past max_body_bytes: served');
  t.equal(sinkA.last!.bytes, 3 * MIB);
});

t.test('backpressure: a slow upstream slows the client, the gateway holds no file; the client leaving cancels the upstream', async (t) => {
  const { sinkA, gw } = await setup(t);
  sinkA.bytesPerSecond = 4 * MIB;
  const total = 256 * MIB;
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  let written = 0;
  let req!: http.ClientRequest;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  let peakBuffers = 0;
  const answered = send(`${gw.url}/v1/claude/v1/files`, { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': BETA, 'content-type': 'application/octet-stream', 'content-length': String(total) }, (r) => {
    req = r;
    const more = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!r.write(chunk)) return void r.once('drain', more);
      }
      r.end();
    };
    more();
  });
  const watch = setInterval(() => (peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers - buffersBefore)), 20);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(watch);
  const upload = sinkA.last!;
  t.comment(`after 2 s: client wrote ${(written / MIB).toFixed(1)} MiB, upstream read ${(upload.bytes / MIB).toFixed(1)} MiB, peak array buffers +${(peakBuffers / MIB).toFixed(1)} MiB`);
  t.ok(upload.bytes > 0 && upload.bytes < 16 * MIB, 'the upstream reads at its own pace');
  t.ok(written < upload.bytes + 48 * MIB, 'the client is held back to what the upstream took, plus socket buffers');
  t.ok(peakBuffers < 32 * MIB, 'the gateway (and the test) held no more than a few chunks');

  req.destroy();
  const cut = await answered;
  t.ok(cut instanceof Error, 'the client went away');
  const started = performance.now();
  await upload.done;
  t.ok(upload.aborted && !upload.complete, 'the upstream request was cancelled, not completed');
  // Generous: a shared 2-core machine can take seconds; never cancelling would leave it waiting for the whole file.
  t.ok(performance.now() - started < 10_000, 'promptly');
  t.ok(upload.bytes < total, 'before the file was through');
});

t.test('refusals and upstream failures answer in the route dialect; the gateway keeps serving', async (t) => {
  const { sinkA, anthropic, gw } = await setup(t, '', '  - name: auth');
  const headers = { 'anthropic-version': '2023-06-01', 'anthropic-beta': BETA, 'content-type': 'application/octet-stream', 'content-length': String(8 * MIB), expect: '100-continue' };
  // Refused by the chain: a client that waits for 100 Continue never has to send the file.
  let continued = false;
  const refused = await send(`${gw.url}/v1/claude/v1/files`, headers, (req) => {
    req.on('continue', () => {
      continued = true;
      req.end(Buffer.alloc(8 * MIB));
    });
    req.flushHeaders();
  });
  t.match(refused, { status: 401 });
  t.match(JSON.parse((refused as { body: string }).body), { type: 'error', error: { type: 'authentication_error' } });
  t.notOk(continued, 'no 100 Continue for a refused upload');
  t.equal(sinkA.uploads.length, 0, 'the upstream was never called');

  await anthropic.close();
  const unreachable = await send(`${gw.url}/v1/claude/v1/files`, { ...headers, 'x-workspace-id': 'ws-1' }, (req) => {
    req.on('continue', () => req.end(Buffer.alloc(8 * MIB)));
    req.flushHeaders();
  });
  t.match(unreachable, { status: 502 }, 'upstream unreachable: 502');
  t.match(JSON.parse((unreachable as { body: string }).body), { type: 'error', error: { type: 'api_error' } }, "in Anthropic's shape");
  const rec = await outcomeFor(String((unreachable as { headers: http.IncomingHttpHeaders }).headers['x-request-id']));
  t.equal(rec.outcome.error?.code, 'GW_ERR_UPSTREAM_UNREACHABLE');
  t.match(rec.identity, { workspace: 'ws-1', user: 'alice' }, 'identity resolved for the audit line');

  const health = await fetch(`${gw.url}/health`);
  t.equal(health.status, 200, 'still serving');
});
