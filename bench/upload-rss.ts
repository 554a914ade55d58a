/**
 * The gateway's memory while a large file upload streams through it: a built gateway in its
 * own process, an Anthropic mock that counts the upload's bytes at `SINK_MIBPS` MiB/s (0:
 * as fast as they come), a client streaming `MIB` MiB to `POST /v1/claude/v1/files`. Prints
 * the gateway's RSS before, its peak while the upload ran (sampled every 50 ms), and after.
 *   MIB=300 SINK_MIBPS=32 npx tsx bench/upload-rss.ts     (npm run build first)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnthropicMock } from '../test/mocks/anthropic-mock.js';
import { UploadSink } from '../test/mocks/upload-sink.js';

const MIB = 1024 * 1024;
const total = Number(process.env.MIB ?? 300) * MIB;
const rate = Number(process.env.SINK_MIBPS ?? 32);
const KEY = 'sk-ant-bench-000000000000000000';

const mock = await AnthropicMock.start({ apiKey: KEY });
mock.uploadSink = new UploadSink();
if (rate > 0) mock.uploadSink.bytesPerSecond = rate * MIB;
const dir = mkdtempSync(path.join(tmpdir(), 'upload-rss-'));
const port = 18000 + Math.floor(Math.random() * 2000);
writeFileSync(path.join(dir, 'config.yaml'), `server: { host: 127.0.0.1, port: ${port}, request_timeout_ms: 0 }\nproviders:\n  anthropic:\n    api_key: ${KEY}\n    base_url: ${mock.url}\n`);
const gw = spawn(process.execPath, ['dist/bin/ai-gateway.cjs', '--config', path.join(dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.pid}/status`, 'utf8'))![1]) / 1024;
for (let i = 0; ; i++) {
  const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
  if (up) break;
  if (i > 100) throw new Error('gateway did not start');
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, 500));
const before = rss();
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 50);
const started = performance.now();
const status = await new Promise<number>((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/claude/v1/files', headers: { 'x-api-key': 'client', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14', 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
  });
  req.on('error', reject);
  const chunk = Buffer.alloc(MIB, 0x61);
  let sent = 0;
  const more = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!req.write(chunk)) return void req.once('drain', more);
    }
    req.end();
  };
  more();
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const after = rss();
console.log(JSON.stringify({ status, mib: total / MIB, upstream_mib: mock.uploadSink.last!.bytes / MIB, sink_mibps: rate || 'unthrottled', seconds: Number(seconds.toFixed(1)), rss_mib: { before: Math.round(before), peak: Math.round(peak), after: Math.round(after) } }));
gw.kill('SIGTERM');
await mock.close();
