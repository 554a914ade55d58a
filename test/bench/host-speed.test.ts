/**
 * The host's speed trial by trial (bench/lib/host-speed.ts), on run AU's own figures
 * (bench/results/latest.json of 2026-12-07 17:09 UTC), a run whose host slowed as it went.
 */
import t from 'tap';
import { hostGauges, hostLines } from '../../bench/lib/host-speed.js';
import type { ArmResults } from '../../bench/lib/targets.js';

const RUN_AU: ArmResults = {
  direct: { rps_1k: [16424.5, 9689, 18470] },
  bare: { cpu_us_per_req_1k: [90.42, 118.445, 157.658], cpu_us_per_req_1k_half: [98.439, 103.083, 107.742], rps_1k: [9995.75, 7388.5, 6034] },
  gateway: { cpu_us_per_req_1k: [98.184, 192.743, 221.624] },
};

t.test('each gauge against its quickest trial', async (t) => {
  const [cpu, half, rps] = hostGauges(RUN_AU);
  t.equal(cpu!.unit, 'µs');
  t.same(cpu!.slowdown.map((s) => s.toFixed(2)), ['1.00', '1.31', '1.74'], 'less CPU is quicker: 90 µs the quickest');
  t.same(half!.slowdown.map((s) => s.toFixed(2)), ['1.00', '1.05', '1.09'], 'the half-load rows, minutes later, on a steadier host');
  t.equal(rps!.unit, 'req/s');
  t.same(rps!.slowdown.map((s) => s.toFixed(2)), ['1.12', '1.91', '1.00'], 'more req/s is quicker: 18,470 the quickest');
});

t.test('the lines the bench prints', async (t) => {
  t.same(hostLines(hostGauges(RUN_AU)), [
    "  the bare proxy's CPU a 1 KB request, at its max: 90, 118, 158 µs (1.00, 1.31, 1.74 × the quickest trial's time)",
    "  the bare proxy's CPU a 1 KB request, at half load: 98, 103, 108 µs (1.00, 1.05, 1.09 × the quickest trial's time)",
    "  the mock direct's 1 KB max: 16,425, 9,689, 18,470 req/s (1.12, 1.91, 1.00 × the quickest trial's time)",
  ]);
});

t.test('a run without an arm has no gauge of it', async (t) => {
  t.same(hostGauges({ gateway: { rps_1k: [1] } }), [], 'neither the bare proxy nor the mock direct measured');
  const onlyDirect = hostGauges({ direct: { rps_1k: [100, 50] } });
  t.equal(onlyDirect.length, 1);
  t.same(onlyDirect[0]!.slowdown, [1, 2]);
});
