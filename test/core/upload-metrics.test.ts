/**
 * `gateway_upload_bytes_total{route,provider}` counts upload bytes as they pass to the
 * upstream: a long upload shows in it while it is still arriving, not only at its end.
 */
import http from 'node:http';
import t from 'tap';
import { startUploadGateway } from '../helpers/upload.js';

const MIB = 1024 * 1024;
const SERIES = 'gateway_upload_bytes_total{route="anthropic",provider="anthropic"}';

async function counted(url: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(SERIES));
  return line === undefined ? undefined : Number(line.slice(SERIES.length + 1));
}

t.test('upload bytes are counted by route and provider as they pass', async (t) => {
  const { sink, gw } = await startUploadGateway(t);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(text, /# TYPE gateway_upload_bytes_total counter/, 'listed from the start');
  t.equal(await counted(gw.url), undefined, 'no series before an upload');

  // A slow upstream: 32 MiB at 8 MiB/s takes ~4 s; the count moves before the end.
  sink.bytesPerSecond = 8 * MIB;
  const total = 32 * MIB;
  const answered = new Promise<number>((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/claude/v1/files`, { method: 'POST', agent: false, headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(total));
  });
  await new Promise((r) => setTimeout(r, 1500));
  const midway = await counted(gw.url);
  t.comment(`after 1.5 s: ${((midway ?? 0) / MIB).toFixed(1)} MiB counted, the upstream read ${(sink.last!.bytes / MIB).toFixed(1)} MiB`);
  t.ok(midway !== undefined && midway > 0 && midway < total, 'counted while the upload is under way');
  t.equal(await answered, 200);
  t.equal(await counted(gw.url), total, 'every byte once it is through');

  // A generation's body is no upload.
  await fetch(`${gw.url}/v1/claude/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) });
  t.equal(await counted(gw.url), total, 'other requests do not count');
});
