/**
 * `npm run bench`'s start-up row: several gateway starts, each just after Node's own share
 * of one (a bare node:http server spawned the same way, on the same core; after a gateway's
 * start its settling would share the core). One start is one draw from a machine whose
 * slow spells move it by tens of ms, so the row is their median, with the range.
 */
import { EXTRA_CA_CERTS, median, nodeFloorStartup, type Started } from './proc.js';

/** Start-up timings, ms, one entry per start. */
export interface Startup {
  /** Spawn → first 200 of a POST through the chain to the mock. */
  fromSpawn: number[];
  /** The part of it spent polling (after the spawn call returned). */
  polling: number[];
  /** A bare node:http server's spawn → first 200, just before each gateway start. */
  floor: number[];
  /** The same without NODE_EXTRA_CA_CERTS, when the environment sets it. */
  floorNoExtraCa: number[];
}

export interface StartsPlan {
  count: number;
  /** The core the servers run on (undefined: not pinned). */
  core: number | undefined;
  /** A port the floor servers may take, one at a time. */
  floorPort: number;
  /** Spawn a gateway; the last start's is kept running. */
  spawn(last: boolean, i: number): Started;
  /** Poll the started gateway until it answers 200; resolves with the ms it polled. */
  firstAnswer(last: boolean): Promise<number>;
}

/** Each floor alone, when no gateway is started. */
export async function floorOnly(core: number | undefined, floorPort: number): Promise<Startup> {
  return { fromSpawn: [], polling: [], floor: [await nodeFloorStartup(core, floorPort)], floorNoExtraCa: [] };
}

/** The plan's starts, timed; the last one's process is left running for the caller. */
export async function timeStarts(plan: StartsPlan): Promise<{ startup: Startup; running: Started }> {
  if (plan.count < 1) throw new RangeError('at least one start: the last one is kept running');
  const startup: Startup = { fromSpawn: [], polling: [], floor: [], floorNoExtraCa: [] };
  for (let i = 0; ; i++) {
    startup.floor.push(await nodeFloorStartup(plan.core, plan.floorPort));
    if (EXTRA_CA_CERTS) startup.floorNoExtraCa.push(await nodeFloorStartup(plan.core, plan.floorPort, { NODE_EXTRA_CA_CERTS: '' }));
    const last = i === plan.count - 1;
    const startAt = performance.now();
    const proc = plan.spawn(last, i);
    try {
      startup.polling.push(await plan.firstAnswer(last));
    } catch (err) {
      await proc.stop();
      throw err;
    }
    startup.fromSpawn.push(performance.now() - startAt);
    if (last) return { startup, running: proc };
    await proc.stop();
  }
}

/** The row's line under the table. */
export function startupLine(st: Startup): string {
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '–');
  const range = (v: number[]): string => (v.length > 1 ? ` (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})` : '');
  const noCa = st.floorNoExtraCa.length === 0 ? '' : `, ${fmt(median(st.floorNoExtraCa))} without the NODE_EXTRA_CA_CERTS set here, which Node parses at every start`;
  return `startup to first 200, median of ${st.fromSpawn.length}: ${fmt(median(st.fromSpawn))} ms from spawn${range(st.fromSpawn)}, ${fmt(median(st.polling))} of polling (target < 300 ms); a bare node:http server: ${fmt(median(st.floor))} ms from spawn${range(st.floor)}${noCa}`;
}
