/**
 * Graceful shutdown of the real CLI: on SIGTERM in-flight streams (HTTP/1.1 and HTTP/2)
 * finish, idle keep-alive connections are closed, HTTP/2 sessions get GOAWAY, new
 * connections are refused, and the process exits 0. Past the drain timeout, what is
 * left is cut and the process still exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { writeConfig } from '../helpers/gateway.js';
import { h2request, messages, streamedText, waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORDS = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');

interface Cli {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startCli(t: Test, yaml: string): Promise<Cli> {
  const { file } = writeConfig(yaml);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/ai-gateway.ts', '--config', file], { cwd: root, env: { ...process.env, AI_GATEWAY_PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  await waitFor(() => err.includes('"gateway listening"') || child.exitCode !== null, 20_000, 20);
  if (child.exitCode !== null) throw new Error(`the CLI exited early: ${err}`);
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => err, exited };
}

/** POST a streamed echo request over HTTP/1.1 on its own connection; resolves the body once the first chunk arrived. */
function h1Stream(url: string): Promise<{ body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/echo/v1/messages`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      const body = new Promise<string>((done, fail) => {
        res.on('end', () => done(text));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('aborted')));
      });
      res.once('data', () => resolve({ body }));
      res.on('data', (c: string) => (text += c));
    });
    req.on('error', reject);
    req.end(messages(WORDS, true));
  });
}

function refused(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve('connected')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

t.test('SIGTERM drains streams, closes idle connections, refuses new ones, exits 0', async (t) => {
  const cli = await startCli(t, `server:\n  host: 127.0.0.1\n  drain_timeout_ms: 10000\nproviders:\n  echo:\n    stream_delay_ms: 50\n`);

  // An idle keep-alive connection: it must be closed by the drain, not left to time out.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const idleSocket = await new Promise<net.Socket>((resolve, reject) => {
    const req = http.get(`${cli.url}/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.socket!));
    });
    req.on('error', reject);
  });
  const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()));

  const h1 = await h1Stream(cli.url);
  const session = http2.connect(cli.url);
  t.teardown(() => session.destroy());
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
  let h2first: () => void = () => {};
  const h2started = new Promise<void>((resolve) => (h2first = resolve));
  const h2 = h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages' }, messages(WORDS, true), () => h2first());
  await h2started;

  const signalled = performance.now();
  cli.child.kill('SIGTERM');
  await idleClosed;
  t.pass(`the idle keep-alive connection was closed ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM`);
  await goaway;
  t.pass('the HTTP/2 session got GOAWAY');
  t.equal(await refused(cli.url), 'ECONNREFUSED', 'new connections are refused while streams drain');

  t.equal(streamedText(await h1.body), WORDS, 'the HTTP/1.1 stream finished intact');
  const h2res = await h2;
  t.equal(streamedText(h2res.body), WORDS, 'the HTTP/2 stream finished intact');
  t.match(h2res.body, /event: message_stop/);
  t.equal(await cli.exited, 0, 'exit code 0');
  t.comment(`exited ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM`);
  t.match(cli.stderr(), /"msg":"drained"/, 'the drain was logged before exit');
});

t.test('past drain_timeout_ms the rest is cut and the process still exits 0', async (t) => {
  const cli = await startCli(t, `server:\n  host: 127.0.0.1\n  drain_timeout_ms: 300\nproviders:\n  echo:\n    stream_delay_ms: 400\n`);
  const h1 = await h1Stream(cli.url);
  const signalled = performance.now();
  cli.child.kill('SIGTERM');
  const body = await h1.body.catch(() => '');
  t.notOk(body.includes('message_stop'), 'the long stream was cut');
  t.equal(await cli.exited, 0, 'exit code 0');
  const ms = performance.now() - signalled;
  t.ok(ms < 5000, `exited ${ms.toFixed(0)} ms after SIGTERM, soon after the 300 ms timeout`);
  t.match(cli.stderr(), /drain timeout reached/);
});
