/**
 * A non-streamed translated answer (the unified endpoint in front of Anthropic) is read
 * whole by the provider before the gateway answers. Its head ends the attempt's headers
 * phase, and its body is then timed by the idle timer from chunk to chunk: a body that keeps
 * coming for longer than `headers_ms` is served, and one that stops is an idle timeout, not
 * a "headers" one. (Before, the headers timer ran until the whole body had been read and
 * translated: the proof table's 24 MiB body failed as a 504 headers timeout on a loaded machine.)
 * The harness's upstreams have headers_ms and idle_ms 500.
 */
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { ask, auditLine, startProof } from './support/harness.js';
import { USAGE, type Reply } from './support/upstream.js';

const MESSAGE = JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hello from upstream' }], stop_reason: 'end_turn', stop_sequence: null, usage: USAGE });

function head(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(MESSAGE) });
}

/** The head at once, then the body in 20 pieces 60 ms apart: 1.2 s in all, never silent for long. */
const trickle: Reply = async (_req, res) => {
  head(res);
  const step = Math.ceil(MESSAGE.length / 20);
  for (let i = 0; i < MESSAGE.length; i += step) {
    res.write(MESSAGE.slice(i, i + step));
    await sleep(60);
  }
  res.end();
};

/** The head and half the body, then nothing. */
const silentAfterHead: Reply = (_req, res) => {
  head(res);
  res.write(MESSAGE.slice(0, MESSAGE.length >> 1));
};

t.test('a body that keeps coming past headers_ms is served', async (t) => {
  const proof = await startProof(t);
  proof.upstream.script.push(trickle);
  const started = performance.now();
  const got = await ask(proof.url, 'openai', 'trickle-1');
  t.ok(performance.now() - started > 1000, 'the body took longer than headers_ms');
  t.equal(got.status, 200);
  t.match(JSON.parse(got.text), { object: 'chat.completion', choices: [{ message: { content: 'hello from upstream' } }] });
  t.match(await auditLine(proof, 'trickle-1'), { status: 200, error: null });
});

t.test('a body that stops after the head is an idle timeout', async (t) => {
  const proof = await startProof(t);
  proof.upstream.script.push(silentAfterHead);
  const got = await ask(proof.url, 'openai', 'silent-1');
  t.equal(got.status, 504);
  t.match(JSON.parse(got.text), { error: { message: /went silent/ } }, 'the OpenAI error says which phase');
  t.match(await auditLine(proof, 'silent-1'), { status: 504, error: 'GW_ERR_UPSTREAM_IDLE_TIMEOUT', error_kind: 'upstream_timeout' });
  t.equal((await ask(proof.url, 'openai', 'silent-next')).status, 200, 'the next request is served');
});
