/**
 * DelayedBatch: entries merged per key, sent once after the delay or at a flush, failures
 * reported and never thrown, and a pending batch never holds a process open.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { DelayedBatch, delayedBatchFor, MemoryStore, type Store } from '../../core/index.js';

interface Sum {
  key: string;
  n: number;
}

function summing(delayMs: number, send: (e: Sum) => unknown = () => undefined) {
  const sent: Sum[] = [];
  const errors: unknown[] = [];
  const batch = new DelayedBatch<Sum>({
    delayMs,
    merge: (into, next) => {
      into.n += next.n;
    },
    send: (e) => {
      sent.push({ ...e });
      return send(e);
    },
    onError: (err) => errors.push(err),
  });
  return { batch, sent, errors };
}

t.test('entries of one key are merged and sent once, after the delay', async (t) => {
  let firstSendAfter = Infinity;
  const added = performance.now();
  const { batch, sent } = summing(30, () => {
    firstSendAfter = Math.min(firstSendAfter, performance.now() - added);
  });
  for (let i = 1; i <= 10; i++) batch.add(i % 2 ? 'odd' : 'even', { key: i % 2 ? 'odd' : 'even', n: i });
  t.equal(batch.size, 2, 'two keys pending');
  t.same(sent, [], 'nothing sent at once');
  await sleep(80);
  // Timed at the send, not by looking early: on a loaded machine a 5 ms sleep can outlast the delay.
  t.ok(firstSendAfter >= 29, `nothing sent before the delay (first send after ${firstSendAfter.toFixed(1)} ms)`);
  t.same(sent.sort((a, b) => a.key.localeCompare(b.key)), [{ key: 'even', n: 30 }, { key: 'odd', n: 25 }], 'one send per key, summed');
  t.equal(batch.size, 0);
  batch.add('odd', { key: 'odd', n: 7 });
  await sleep(80);
  t.same(sent.at(-1), { key: 'odd', n: 7 }, 'a later entry starts a new batch');
});

t.test('flush sends at once and resolves when every send has answered', async (t) => {
  let answer: () => void = () => undefined;
  const { batch, sent } = summing(60_000, () => new Promise<void>((r) => (answer = r)));
  batch.add('a', { key: 'a', n: 1 });
  let flushed = false;
  const done = batch.flush().then(() => (flushed = true));
  t.same(sent, [{ key: 'a', n: 1 }], 'sent without waiting for the delay');
  await sleep(10);
  t.notOk(flushed, 'still waiting for the store');
  answer();
  await done;
  t.ok(flushed);
  await batch.flush();
  t.equal(sent.length, 1, 'an empty flush sends nothing');
});

t.test('a failed send, thrown or rejected, reaches onError; the others still go', async (t) => {
  const { batch, sent, errors } = summing(60_000, (e) => {
    if (e.key === 'throws') throw new Error('sync failure');
    if (e.key === 'rejects') return Promise.reject(new Error('store down'));
    return Promise.resolve();
  });
  batch.add('throws', { key: 'throws', n: 1 });
  batch.add('rejects', { key: 'rejects', n: 1 });
  batch.add('fine', { key: 'fine', n: 1 });
  await batch.flush();
  t.equal(sent.length, 3, 'every key was sent');
  t.same(errors.map((e) => (e as Error).message).sort(), ['store down', 'sync failure']);
  batch.add('fine', { key: 'fine', n: 2 });
  await batch.flush();
  t.same(sent.at(-1), { key: 'fine', n: 2 }, 'the batch goes on after failures');
});

t.test('delayedBatchFor: a batch for a store of round trips, none for the memory store', async (t) => {
  const options = { delayMs: 5, merge: () => undefined, send: () => undefined, onError: () => undefined };
  t.equal(delayedBatchFor(new MemoryStore(), options), undefined, 'the memory store: each write at once');
  const remote = { type: 'redis' } as unknown as Store;
  t.ok(delayedBatchFor(remote, options) instanceof DelayedBatch, 'a shared store: batched');
});

t.test('a pending batch does not hold the process open', async (t) => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const module = path.resolve(here, '../../core/stores/delayed-batch.ts');
  const code = `import { DelayedBatch } from ${JSON.stringify(module)};
const b = new DelayedBatch({ delayMs: 60000, merge() {}, send() { console.log('sent'); }, onError() {} });
b.add('k', {}); console.log('added');`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'added\n', 'exited with the entry unsent');
  t.ok(Date.now() - started < 30_000, 'long before the delay');
});
