/**
 * File uploads over HTTP/2 (h2c with prior knowledge, as the AWS SDK and curl
 * --http2-prior-knowledge speak it): the bytes arrive upstream intact, HTTP/2 flow control
 * holds a fast client back to a slow upstream's pace, `max_upload_bytes` refuses a declared
 * length at once and an undeclared one as it passes (a 413, then the stream is reset
 * NO_ERROR), and a client's RST_STREAM cancels the upstream request.
 */
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import t from 'tap';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { startUploadGateway } from '../helpers/upload.js';

const CLIENT_KEY = 'sk-client-should-never-leave-0000';
const MIB = 1024 * 1024;
const HEADERS = { ':method': 'POST', ':path': '/v1/claude/v1/files', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14', 'content-type': 'application/octet-stream' };

async function setup(t: { teardown(fn: () => unknown): void }, server = '') {
  const { sink, gw } = await startUploadGateway(t, { server: `  max_body_bytes: 1048576\n${server}` });
  const client = http2.connect(gw.url);
  client.on('error', () => {});
  t.teardown(() => client.close());
  return { sink, gw, client };
}

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** Resolves once `check()` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One request stream; `write` sends the body. Resolves with the answer, or the error that cut it. */
function send(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, write: (stream: http2.ClientHttp2Stream) => void): { stream: http2.ClientHttp2Stream; answered: Promise<Answer | Error> } {
  const stream = client.request(headers, { endStream: false });
  const answered = new Promise<Answer | Error>((resolve) => {
    let head: http2.IncomingHttpHeaders | undefined;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: string) => (body += c));
    const done = (): void => (head ? resolve({ status: Number(head[':status']), headers: head, body }) : resolve(new Error(`closed without an answer (rst ${stream.rstCode})`)));
    stream.on('error', resolve);
    // A stream the gateway answered and reset while its client still had body to send never
    // closes in Node's client (its writable side waits on a window that never opens): the
    // answer is whole at 'end'.
    stream.on('end', done);
    stream.on('close', done);
  });
  write(stream);
  return { stream, answered };
}

/** Write `total` bytes of `chunk`s, waiting on 'drain' as the stream asks; ends the stream unless told not to. */
function pump(stream: http2.ClientHttp2Stream, chunk: Buffer, total: number, progress?: { written: number }, end = true): void {
  let written = 0;
  const more = (): void => {
    while (written < total && !stream.destroyed) {
      const piece = total - written >= chunk.length ? chunk : chunk.subarray(0, total - written);
      written += piece.length;
      if (progress) progress.written = written;
      if (!stream.write(piece)) return void stream.once('drain', more);
    }
    if (end && !stream.destroyed) stream.end();
  };
  more();
}

t.test('40 MiB in 1 MiB chunks over HTTP/2 arrive upstream intact', async (t) => {
  const { sink, client } = await setup(t);
  sink.hashing = true;
  // Not one repeated byte: a lost, doubled or reordered chunk changes the hash.
  const file = Buffer.alloc(40 * MIB);
  for (let i = 0; i < file.length; i += 4) file.writeUInt32LE(i, i);
  const expected = createHash('sha256').update(file).digest('hex');

  const declared = send(client, { ...HEADERS, 'content-length': String(file.length) }, (s) => {
    let at = 0;
    const more = (): void => {
      while (at < file.length) {
        const piece = file.subarray(at, (at += MIB));
        if (!s.write(piece)) return void s.once('drain', more);
      }
      s.end();
    };
    more();
  });
  const a = await declared.answered;
  t.match(a, { status: 200 }, 'with a content-length');
  t.equal(sink.last!.bytes, file.length);
  t.equal(sink.last!.sha256, expected, 'the same bytes, in order');
  t.equal(sink.last!.headers['content-length'], String(file.length), 'the declared length went upstream');
  const rec = await outcomeFor(String((a as Answer).headers['x-request-id']));
  t.equal(rec.outcome.bytesIn, file.length, 'audited with its bytes');

  const undeclared = send(client, HEADERS, (s) => pump(s, file.subarray(0, MIB), 8 * MIB));
  t.match(await undeclared.answered, { status: 200 }, 'without one (HTTP/2 needs no chunked framing)');
  t.equal(sink.last!.bytes, 8 * MIB);
});

t.test('max_upload_bytes over HTTP/2: a declared length past it is a 413 at once, an undeclared one is cut as it passes', async (t) => {
  const { sink, client, gw } = await setup(t, '  max_upload_bytes: 4194304');
  const progress = { written: 0 };
  const declared = send(client, { ...HEADERS, 'content-length': String(5 * MIB) }, () => {});
  // Nothing of the body is sent before the answer: a client that waits is never made to send its file.
  const early = await declared.answered;
  t.match(early, { status: 413 });
  t.match(JSON.parse((early as Answer).body), { type: 'error', error: { type: 'request_too_large' } }, "Anthropic's error shape");
  t.equal(sink.uploads.length, 0, 'the upstream was never called');
  const rec = await outcomeFor(String((early as Answer).headers['x-request-id']));
  t.equal(rec.outcome.status, 413);
  t.equal(rec.outcome.error?.code, 'GW_ERR_REQUEST_TOO_LARGE', 'audited with its code');

  const undeclared = send(client, HEADERS, (s) => pump(s, Buffer.alloc(MIB), 64 * MIB, progress));
  const cut = await undeclared.answered;
  if (cut instanceof Error) t.fail(`reset without an answer: ${cut.message}`);
  else {
    t.equal(cut.status, 413, 'answered 413 once it passed the limit');
    t.match(JSON.parse(cut.body), { type: 'error', error: { type: 'request_too_large' } });
    await until(() => undeclared.stream.closed, 5000);
    t.equal(undeclared.stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'then the stream is reset NO_ERROR: the rest is not read (RFC 9113 §8.1)');
    t.ok(progress.written < 16 * MIB, `the client stopped sending well before its 64 MiB (sent ${(progress.written / MIB).toFixed(1)} MiB)`);
    undeclared.stream.destroy();
  }
  await sink.last?.done;
  t.notOk(sink.last?.complete, 'the upstream request was cut, not completed');

  // The session is still good for the next request.
  const next = send(client, HEADERS, (s) => s.end(Buffer.alloc(MIB)));
  t.match(await next.answered, { status: 200 }, 'the same HTTP/2 session serves the next upload');
  const health = await fetch(`${gw.url}/health`);
  t.equal(health.status, 200, 'still serving');
});

t.test('HTTP/2 flow control: a slow upstream slows the client; a client RST_STREAM cancels the upstream', async (t) => {
  const { sink, client } = await setup(t);
  sink.bytesPerSecond = 4 * MIB;
  const total = 256 * MIB;
  const progress = { written: 0 };
  const buffersBefore = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const { stream, answered } = send(client, { ...HEADERS, 'content-length': String(total) }, (s) => pump(s, Buffer.alloc(256 * 1024, 0x61), total, progress));
  const watch = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - buffersBefore)), 20);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(watch);
  const upload = sink.last!;
  t.comment(`after 2 s: client wrote ${(progress.written / MIB).toFixed(1)} MiB, upstream read ${(upload.bytes / MIB).toFixed(1)} MiB, peak array buffers +${(peak / MIB).toFixed(1)} MiB`);
  t.ok(upload.bytes > 0 && upload.bytes < 16 * MIB, 'the upstream reads at its own pace');
  t.ok(progress.written < upload.bytes + 48 * MIB, 'the client is held back to what the upstream took, plus windows and buffers');
  t.ok(peak < 32 * MIB, 'the gateway (and the test) held no more than a few chunks');

  stream.close(http2.constants.NGHTTP2_CANCEL);
  const cut = await answered;
  t.ok(cut instanceof Error, 'the client reset its stream');
  const started = performance.now();
  await upload.done;
  t.ok(upload.aborted && !upload.complete, 'the upstream request was cancelled, not completed');
  t.ok(performance.now() - started < 10_000, 'promptly');
  t.ok(upload.bytes < total, 'before the file was through');
});
