/**
 * What joining a large request body into one buffer costs, and why (in process, µs a body
 * and minor page faults a body, medians of interleaved rounds). A 100 KB body reaches the
 * gateway over HTTP/1.1 as a 64 KiB chunk and the rest; the gateway joins them for its
 * scan and its readers. Each body here is written into:
 *
 * - `fresh, joined at the end`: `Buffer.concat`, as `core/request-body.ts` does;
 * - `fresh, copied as chunks arrive`: a buffer of the declared length, each chunk copied in
 *   right after it was made, before the next request's bytes pass through the cache;
 * - `fresh, its pages touched first`: as the first, after one write to each of its pages,
 *   so that what is left is the cache lines' first writes, not the kernel's page faults;
 * - `resident, one of 64 reused`: 6.4 MB of buffers written before, what a pool of body
 *   buffers would give (which a body cannot safely come from: a filter may keep `ctx.body`).
 *
 * Only the gateway's own steps are timed, not the chunks' making.
 *
 * Between a body's two chunks, other requests' chunks are made (`--others`, default 15: 16
 * connections under load), which push the first out of the CPU's caches; `--others 0` times
 * the same copies warm.
 *
 *   npx tsx bench/body-join-micro.ts [--size 102400] [--rounds 7] [--others 15]
 */
import { parseArgs } from 'node:util';
import { median } from './lib/proc.js';
import { interleavedRounds, type Timing } from './lib/micro.js';

const { values: args } = parseArgs({ options: { size: { type: 'string', default: '102400' }, rounds: { type: 'string', default: '7' }, others: { type: 'string', default: '15' } } });
const SIZE = Number(args.size);
const ROUNDS = Number(args.rounds);
const READ = 64 * 1024;
/** Other requests' 64 KiB chunks made between a body's two chunks (16 connections under load: 15). */
const OTHERS = Number(args.others);
const PAGE = 4096;

/** A socket read's chunk as Node's HTTP parser hands it over: a copy of its own. */
const chunk = (length: number, fill: number): Buffer => Buffer.allocUnsafe(length).fill(fill);
/** Other requests' chunks made between two of this body's; kept a while, as in-flight bodies are. */
const inFlight: Buffer[] = [];
function othersPass(): void {
  for (let i = 0; i < OTHERS; i++) inFlight.push(chunk(READ, i));
  inFlight.splice(0, Math.max(0, inFlight.length - 4 * OTHERS));
}

const resident = Array.from({ length: 64 }, () => Buffer.alloc(SIZE));
let next = 0;
const kept: Buffer[] = [];
const keep = (body: Buffer): void => {
  kept.push(body);
  if (kept.length > 16) kept.shift();
};

/** The gateway's part of a body: given its two chunks, `onFirst` when the first came, `onEnd` at the end. */
interface Way {
  name: string;
  onFirst(first: Buffer): void;
  onEnd(first: Buffer, second: Buffer): void;
}
let arriving: Buffer = Buffer.alloc(0);
const copyBoth = (body: Buffer, first: Buffer, second: Buffer): void => {
  first.copy(body, 0);
  second.copy(body, first.length);
};
const ways: Way[] = [
  { name: 'fresh, joined at the end', onFirst() {}, onEnd: (first, second) => keep(Buffer.concat([first, second], SIZE)) },
  {
    name: 'fresh, copied as chunks arrive',
    onFirst(first) {
      arriving = Buffer.allocUnsafe(SIZE);
      first.copy(arriving, 0);
    },
    onEnd(first, second) {
      second.copy(arriving, first.length);
      keep(arriving);
    },
  },
  {
    name: 'fresh, its pages touched first',
    onFirst() {},
    onEnd(first, second) {
      const body = Buffer.allocUnsafe(SIZE);
      for (let at = 0; at < SIZE; at += PAGE) body[at] = 0;
      copyBoth(body, first, second);
      keep(body);
    },
  },
  {
    name: 'resident, one of 64 reused',
    onFirst() {},
    onEnd: (first, second) => copyBoth(resident[next++ & 63], first, second),
  },
];

const BODIES = 4000;
/** µs and page faults a body in the way's own steps, over BODIES bodies with other traffic between chunks. */
function measure(way: Way): Timing {
  let ns = 0n;
  let faults = 0;
  const step = (run: () => void): void => {
    const f = process.resourceUsage().minorPageFault;
    const t = process.hrtime.bigint();
    run();
    ns += process.hrtime.bigint() - t;
    faults += process.resourceUsage().minorPageFault - f;
  };
  for (let i = 0; i < BODIES; i++) {
    const first = chunk(Math.min(READ, SIZE), 1);
    step(() => way.onFirst(first));
    othersPass();
    const second = chunk(SIZE - first.length, 2);
    step(() => way.onEnd(first, second));
  }
  return { us: Number(ns) / BODIES / 1000, faults: faults / BODIES };
}

const runs = interleavedRounds(ROUNDS, ways.map((way) => () => measure(way)));
console.log(`| ${SIZE} bytes, ${OTHERS} other 64 KiB chunks between two, medians of ${ROUNDS} rounds | µs a body | page faults a body |`);
console.log('|---|---|---|');
ways.forEach((way, i) => console.log(`| ${way.name} | ${median(runs[i].map((t) => t.us)).toFixed(2)} | ${median(runs[i].map((t) => t.faults)).toFixed(2)} |`));
