/**
 * The long soak: the same run as test/proof/soak.test.ts, for as long as asked.
 *
 *   npm run soak -- --minutes 10            # default 10
 *   npm run soak -- --minutes 60 --workers 16
 *   npm run soak -- --redis redis://127.0.0.1:6390   # the shared store, on a Redis you started
 *
 * Prints progress, then the numbers (requests, aborts, reloads, audit lines, heap after a
 * forced GC and open fds of the gateway process, before and after, budget estimates left
 * held); exits 1 when audit lines differ from requests, an unexpected error occurred, an
 * estimate stayed held, or heap or fds grew beyond noise.
 */
import { parseArgs } from 'node:util';
import { runSoak } from '../test/proof/support/soak.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, workers: { type: 'string', default: '8' }, 'reload-every': { type: 'string', default: '5' }, redis: { type: 'string' } } });
const minutes = Number(values.minutes);
const r = await runSoak({
  durationMs: minutes * 60_000,
  workers: Number(values.workers),
  reloadEveryMs: Number(values['reload-every']) * 1000,
  redisUrl: values.redis,
  progress: (line) => console.log(line),
});
const mib = (b: number): string => (b / 1048576).toFixed(1);
console.log(JSON.stringify({ ...r, auditProblems: r.auditProblems.slice(0, 20), unexpected: r.unexpected.slice(0, 20), gatewayErrors: r.gatewayErrors.slice(0, 20) }, null, 2));
console.log(`heap after GC ${mib(r.heapBefore)} → ${mib(r.heapAfter)} MiB, fds ${r.fdsBefore} → ${r.fdsAfter}, ${r.requests} requests, ${r.auditLines} audit lines, $${r.heldUsd} of budget held after`);
// The heap bound scales gently with the run: series and JIT code settle, a leak keeps climbing.
const failed = r.auditLines !== r.requests || r.auditProblems.length > 0 || r.unexpected.length > 0 || r.gatewayErrors.length > 0 || r.heldUsd !== 0 || r.heapAfter - r.heapBefore > (8 + minutes) * 1048576 || r.fdsAfter - r.fdsBefore > 4;
process.exit(failed ? 1 : 0);
