/**
 * The report of a `bench/run.ts` run: its table of figures (each arm's medians, gateway
 * against bare, paired trial by trial), #12's targets trial by trial, the host's speed, and
 * the start-up, reload and heap lines. Printed at the end of a run, or again for a saved one
 * (`--report`).
 */
import { median } from './proc.js';
import { hostGauges, hostLines } from './host-speed.js';
import { startupLine, type Startup } from './starts.js';
import { paddedTable } from './table.js';
import { readTargets, targetFor, targetSummary, targetTable, type ArmResults } from './targets.js';

export interface RunData {
  results: ArmResults;
  startup: Startup;
  reload: { ms: number; failed: number; sent: number };
  /** The gateway's heap in use after the run, garbage included (its /metrics). */
  heapAfter: number;
  /** Heap after a full GC once the run is over, MiB, each proxy (older saved runs lack it). */
  liveHeapAfter?: { bare: number; gateway: number };
}

/** What `results/latest.json` holds: a run's data and how it ran. */
export interface SavedRun extends RunData {
  date: string;
  trials: number;
  pinned: boolean;
}

/** How the run ran: its bursts of streams a trial for the TTFB rows' labels; for the last line, `how` says what else is known of it. */
export interface RunShape {
  pinned: boolean;
  trials: number;
  bursts: number;
  how: string;
}

/** Print a run's tables: this run's, or a saved one's again. */
export function report(data: RunData, shape: RunShape): void {
  const { results } = data;
  const med = (arm: string, fig: string): number => median(results[arm]?.[fig] ?? []);
  const rows: Array<[string, string, string, string, string, string, string]> = [];
  const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  // Trial i of each arm ran back to back, so g_i / b_i cancels the machine's drift between
  // trials that a ratio of the two medians keeps.
  const paired = (fig: string): number => {
    const g = results.gateway?.[fig] ?? [];
    const b = results.bare?.[fig] ?? [];
    return g.length > 1 && g.length === b.length ? median(g.map((v, i) => v / b[i])) : NaN;
  };
  // A figure #12 sets a target for takes it from bench/lib/targets.ts; the others name theirs.
  const add = (label: string, fig: string, digits: number, unit: string, target = targetFor(fig), ratio = true): void => {
    const g = med('gateway', fig);
    const b = med('bare', fig);
    rows.push([label, `${fmt(med('direct', fig), digits)}`, `${fmt(b, digits)}`, `${fmt(g, digits)} ${unit}`, ratio ? fmt(g / b, 2) : '', ratio ? fmt(paired(fig), 2) : '', target]);
  };
  add('max req/s, 1 KB', 'rps_1k', 0, 'req/s');
  add('max req/s, 100 KB', 'rps_100k', 0, 'req/s');
  add('max req/s, 100 KB agent text (not all ASCII)', 'rps_100k_agent', 0, 'req/s', '');
  add('max req/s, 100 KB agent turn (tools, tool results)', 'rps_100k_session', 0, 'req/s', '');
  add('CPU per request, 1 KB (each at its max req/s)', 'cpu_us_per_req_1k', 0, 'µs');
  add('CPU per request, 1 KB, both at 50% of bare max', 'cpu_us_per_req_1k_half', 0, 'µs');
  add('req/s, 1 KB, a new connection each (8 at a time)', 'rps_1k_newconn', 0, 'req/s', '');
  add('CPU per request, 1 KB, a new connection each', 'cpu_us_per_req_1k_newconn', 0, 'µs', '');
  add('CPU per request, 100 KB agent text', 'cpu_us_per_req_100k_agent', 0, 'µs', '');
  add('CPU per request, 100 KB agent turn', 'cpu_us_per_req_100k_session', 0, 'µs', '');
  add('latency c=1 p50', 'lat_c1_p50', 3, 'ms', '');
  add('latency c=1 p99', 'lat_c1_p99', 3, 'ms', '');
  add('latency at 50% load p50', 'lat_half_p50', 3, 'ms');
  add('latency at 50% load p99', 'lat_half_p99', 3, 'ms');
  add('stream TTFB p50 (20 ms TTFT)', 'stream_ttfb_p50', 3, 'ms', '');
  add(`stream TTFB p99 (${shape.bursts} bursts of 20)`, 'stream_ttfb_p99', 3, 'ms');
  add('stream TTFB less mock time, p50', 'stream_net_p50', 3, 'ms', '');
  add('stream TTFB less mock time, p99', 'stream_net_p99', 3, 'ms', '≤ bare + 0.5 ms');
  add('stream frame gap p99 (5 ms)', 'stream_gap_p99', 3, 'ms');
  add('frame transit p50 (mock write → client read)', 'stream_transit_p50', 3, 'ms', '');
  add('frame transit p99', 'stream_transit_p99', 3, 'ms');
  add('streams with lost frames', 'stream_frames_lost', 0, '', undefined, false);
  add('streams with merged frames', 'stream_frames_merged', 0, '', undefined, false);
  add('streams held of 100', 'streams_held_100', 0, '', '100', false);
  if (results.gateway?.streams_held_1000) add('streams held of 1000', 'streams_held_1000', 0, '', '1000', false);
  add('RSS per stream (100)', 'rss_per_stream_kb_100', 1, 'KiB', '≤ 1.25 × bare');
  if (results.gateway?.rss_per_stream_kb_1000) add('RSS per stream (1000, median of 3 rounds)', 'rss_per_stream_kb_1000', 1, 'KiB', '≤ 1.25 × bare');
  if (results.gateway?.rss_first_round_kb_1000) add('RSS per stream (1000, first round)', 'rss_first_round_kb_1000', 1, 'KiB', '');
  add('idle RSS', 'rss_idle_mb', 1, 'MiB', '', false);
  if (results.gateway?.live_kib_fresh) add('live memory per held stream, fresh connections', 'live_kib_fresh', 1, 'KiB');
  if (results.gateway?.live_kib_warm) add('live memory per held stream, warm connections', 'live_kib_warm', 1, 'KiB', '');
  add('unified stream req/s (OpenAI → Anthropic)', 'uni_rps', 0, 'req/s');
  add('unified stream CPU per request', 'uni_cpu_us_per_req', 0, 'µs', '');
  add('unified stream req/s, 100 KB agent text', 'uni_100k_agent_rps', 0, 'req/s', '');
  add('unified stream CPU per request, 100 KB agent text', 'uni_100k_agent_cpu_us_per_req', 0, 'µs', '');
  add('unified stream errors, 100 KB agent text', 'uni_100k_agent_errors', 0, '', '0', false);
  add('unified stream errors', 'uni_errors', 0, '', '0', false);
  add('unified TTFB p50 (20 ms TTFT)', 'uni_ttfb_p50', 3, 'ms', '');
  add(`unified TTFB p99 (${shape.bursts} bursts of 20)`, 'uni_ttfb_p99', 3, 'ms');
  const header = ['figure', 'direct', 'bare', 'gateway', 'g/b', 'paired', 'target'];
  const out = paddedTable(header, rows);
  // Each target trial by trial too: the arms of a trial ran back to back (bench/lib/targets.ts).
  const readings = readTargets(results);
  out.push('', 'targets, trial by trial (gateway against bare in the same trial):', ...targetTable(readings), targetSummary(readings));
  // Which trials ran on a slow host: arms whose code is the same every trial.
  const gauges = hostGauges(results);
  if (gauges.length > 0) out.push('the host, trial by trial:', ...hostLines(gauges));
  out.push('', startupLine(data.startup));
  out.push(`config reload applied: ${fmt(data.reload.ms, 1)} ms after the write, ${data.reload.failed} of ${data.reload.sent} requests failed during it (target < 250 ms, 0 failed)`);
  const live = data.liveHeapAfter;
  const afterGc = live ? `; after a full GC: the gateway ${fmt(live.gateway, 1)} MiB, the bare proxy ${fmt(live.bare, 1)} MiB` : '';
  out.push(`gateway heap after the run: ${fmt(data.heapAfter, 1)} MiB in use, garbage included${afterGc}`);
  out.push(`pinning: ${shape.pinned ? 'server under test on core 0; load generator and mock on core 1 (taskset)' : 'none (one core)'}; trials: ${shape.trials}, medians; ${shape.how}`);
  process.stdout.write(out.join('\n') + '\n');
}
