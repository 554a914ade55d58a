/**
 * Why a proxy pays more CPU per request at half load than at max (issue #12): the bare
 * proxy and the gateway (bench/gateway.yaml, as `npm run bench` runs them) each at its max
 * throughput (autocannon, 16 connections) and at one fixed rate (the open loop of the
 * half-load rows), side by side per request: CPU (main thread and all threads, from the
 * scheduler's nanoseconds), event-loop turns and the I/O events each turn handled (libuv's
 * own counters, read through the `lib/loop-probe.cjs` preload), system calls by kind and
 * the wake-ups it makes and the IPIs they took (`perf stat` on tracepoints: counting, no
 * PMU needed, far cheaper than strace), the main thread's sleeps and preemptions, the share
 * of the servers' core other processes took (this host is shared), and, in a separate pass
 * because async_hooks costs CPU, the timers, immediates, ticks and promises created.
 * Loopback only; stops itself (~2 min with the defaults, ~3 with the extras below).
 *
 * What it showed (bench/HISTORY.md, forty-fourth session): every count per request is the
 * same at both loads within ~0.1, for both proxies; the CPU that rises at the fixed rate is
 * the same operations costing more (writev most), not more of them.
 *
 *   npx tsx bench/halfload-probe.ts                    # bare proxy + this checkout's gateway
 *   npx tsx bench/halfload-probe.ts A.yaml B.yaml::/tmp/base/dist/bin/ai-gateway.cjs
 *                                                      # gateway arms as compare.ts takes them
 *   RATE=5000 D=5 T=2 WARMUP=40000 npx tsx bench/halfload-probe.ts
 *       # fixed rate (default: half the bare proxy's max in the first trial), seconds per
 *       # run, trials (medians), requests of warm-up per server
 *   PERF=0 …                                           # without perf stat (no syscall columns)
 *   WORK_LOOPS=30000 …                                 # an arm more: the bare proxy + a fixed loop a request
 *   COMPANY=spin,pollute …                             # both loads again with company on the core (see COMPANY)
 *   PROFILE=1 …                                        # then a V8 CPU profile per arm at each load: self time
 *                                                      # per request by function, largest differences first
 *
 * Servers on core 0, this process (the load) and the mock on core 1, as in bench/run.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/helpers/ports.js';
import { maxThroughput, type Target } from './lib/load.js';
import { openLoop } from './lib/open-loop.js';
import { cpuSeconds, gatewayEntry, listeningPort, median, pinSelf, schedCpuMs, SERVER_NODE_FLAGS, spawnPinned, waitFor200, type Started } from './lib/proc.js';
import { messagesBody, warmUp } from './lib/requests.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const SECONDS = Number(process.env.D ?? 5);
const TRIALS = Number(process.env.T ?? 2);
const WARMUP = Number(process.env.WARMUP ?? 40000);
const FIXED_RATE = process.env.RATE ? Number(process.env.RATE) : undefined;
const PERF = process.env.PERF !== '0';
/**
 * Company for the servers' core during extra runs (COMPANY=spin,pollute), to tell what
 * the CPU per request is sensitive to:
 * - spin: a shell loop at SCHED_IDLE, which runs only when nothing else wants the core:
 *   the core never idles (a wake-up preempts it instead of leaving the idle state);
 * - pollute: every ~1 ms a sweep over POLLUTE_KB (default 1024, the L2 of a core here) of
 *   memory, as another process sharing the core leaves the caches: a server whose work
 *   touches more code and data pays more per request to refill them.
 * Each runs at both loads, as rows of their own.
 */
const COMPANY = (process.env.COMPANY ?? '').split(',').filter((c): c is Company => c === 'spin' || c === 'pollute');
type Company = 'spin' | 'pollute';
const POLLUTE_KB = Number(process.env.POLLUTE_KB ?? 1024);
/**
 * WORK_LOOPS=N adds an arm: the bare proxy running a fixed integer loop N times a request
 * (lib/bare-proxy.ts). Its CPU per request less the bare proxy's is the same instructions
 * at each load: if that rises at the fixed rate as much as the rest, the core itself ran
 * slower (frequency, the host), not our code doing more.
 */
const WORK_LOOPS = Number(process.env.WORK_LOOPS ?? 0);

function startCompany(company: Company): ChildProcess {
  if (company === 'spin') return spawn('chrt', ['-i', '0', 'taskset', '-c', '0', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
  const sweep = `const b = Buffer.alloc(${POLLUTE_KB} * 1024); const f = () => { for (let i = 0; i < b.length; i += 64) b[i]++; setTimeout(f, 1); }; f();`;
  return spawn('taskset', ['-c', '0', process.execPath, '-e', sweep], { stdio: 'ignore' });
}
const PRELOAD = path.join(here, 'lib/loop-probe.cjs');
const BODY = messagesBody(1024);
/** Syscalls counted apart; the rest is `raw_syscalls:sys_enter` less these. */
const SYSCALLS = ['epoll_pwait', 'read', 'writev', 'write', 'futex', 'statx'] as const;
/** Scheduler and IPI tracepoints counted beside the syscalls (see perfStat). */
const WAKE_EVENTS = ['sched:sched_waking', 'sched:sched_wake_idle_without_ipi', 'ipi:ipi_send_cpu', 'ipi:ipi_send_cpumask'] as const;
pinSelf(1);

interface Arm {
  name: string;
  pid: number;
  target: Target;
}

interface Loop {
  loopCount: number;
  events: number;
  idleMs: number;
  activeMs: number;
  counts: Record<string, number>;
}

/** plain: CPU, loop and syscall counts; hooks: async resources created; profile: V8's CPU profile of the main thread. */
type Mode = 'plain' | 'hooks' | 'profile';
/** PROFILE=1: a profiled run per arm and load; the functions whose self time per request differs most between the loads are printed. */
const PROFILE = process.env.PROFILE === '1';

/** Self time (µs) by function in a .cpuprofile: `name url:line`, or V8's (garbage collector), (program), (idle)… */
function selfTimes(file: string): Map<string, number> {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const nameOf = new Map(p.nodes.map((n) => [n.id, `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`.replace(/ :0$/, '')]));
  const times = new Map<string, number>();
  // A sample's time is the delta to the next sample.
  for (let i = 0; i < p.samples.length - 1; i++) {
    const name = nameOf.get(p.samples[i])!;
    times.set(name, (times.get(name) ?? 0) + p.timeDeltas[i + 1]);
  }
  return times;
}

/** One run's figures per request (per turn for `eventsPerTurn`). */
type Row = Record<string, number>;

/** Ask the preload in `pid` for its counters (see lib/loop-probe.cjs). */
let seq = 0;
async function loopProbe(dir: string, pid: number, cmd: string): Promise<Loop> {
  const n = ++seq;
  writeFileSync(path.join(dir, `cmd-${pid}`), `${n} ${cmd}`);
  process.kill(pid, 'SIGUSR2');
  const out = path.join(dir, `out-${pid}-${n}.json`);
  for (let i = 0; i < 400; i++) {
    if (existsSync(out)) {
      try {
        return JSON.parse(readFileSync(out, 'utf8')) as Loop;
      } catch {
        // still being written
      }
    }
    await sleep(5);
  }
  throw new Error(`no answer from ${pid} to ${cmd}`);
}

/** `perf stat` counting syscalls and context switches in `pid` until `stop()`. */
function perfStat(pid: number, file: string): { stop(): Promise<Record<string, number>> } {
  // Wake-ups the process makes (its writes wake the reader on the other core), and how
  // many of them took an inter-processor interrupt: a VM exit in a guest.
  const events = ['raw_syscalls:sys_enter', 'context-switches', ...SYSCALLS.map((s) => `syscalls:sys_enter_${s}`), ...WAKE_EVENTS];
  const child = spawn('perf', ['stat', '-x', ',', '-o', file, '-e', events.join(','), '-p', String(pid)], { stdio: 'ignore' });
  return {
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      const counts: Record<string, number> = {};
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [value, , event] = line.split(',');
        if (event && /^\d+$/.test(value)) counts[event.replace('syscalls:sys_enter_', '')] = Number(value);
      }
      return counts;
    },
  };
}

/** Core `n`'s time so far from /proc/stat, in USER_HZ ticks: busy (user…softirq), idle (idle, iowait), stolen by the hypervisor. */
function coreTicks(n: number): { busy: number; idle: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${n} `))!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** The main thread's context switches so far: it slept (voluntary), or was preempted (involuntary). */
function switches(pid: number): { voluntary: number; involuntary: number } {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return { voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
}

/** One load run on `arm` (max throughput, or `rate` req/s open loop), measured per request. */
async function measure(dir: string, arm: Arm, rate: number | 'max', mode: Mode, company?: Company): Promise<Row> {
  const companion = company ? startCompany(company) : undefined;
  try {
    return await measured(dir, arm, rate, mode, companion?.pid, company);
  } finally {
    if (companion) {
      const exited = new Promise((r) => companion.once('exit', r));
      companion.kill('SIGKILL');
      await exited;
    }
  }
}

async function measured(dir: string, arm: Arm, rate: number | 'max', mode: Mode, companionPid: number | undefined, company: Company | undefined): Promise<Row> {
  // A second at the same load first, so the run starts in its steady state.
  if (rate === 'max') await maxThroughput(arm.target, 1);
  else await openLoop(arm.target, rate, 1);
  const hooks = mode === 'hooks';
  const profile = mode === 'profile' ? path.join(dir, `profile-${arm.pid}-${++seq}.cpuprofile`) : undefined;
  const perf = PERF && mode === 'plain' ? perfStat(arm.pid, path.join(dir, `perf-${arm.pid}-${++seq}.csv`)) : undefined;
  if (perf) await sleep(300); // perf attaches to the threads
  const loop0 = await loopProbe(dir, arm.pid, hooks ? 'hooks-on' : profile ? 'prof-start' : 'snap');
  const cpu0 = schedCpuMs(arm.pid);
  const core0 = coreTicks(0);
  const sw0 = switches(arm.pid);
  const spun0 = companionPid ? cpuSeconds(companionPid) : 0;
  const started = performance.now();
  let requests: number;
  if (rate === 'max') {
    const r = await maxThroughput(arm.target, SECONDS);
    if (r.errors + r.non2xx > 0) throw new Error(`${r.errors + r.non2xx} failed at ${arm.target.url}`);
    requests = r.requests;
  } else {
    const r = await openLoop(arm.target, rate, SECONDS);
    if (r.errors > 0) throw new Error(`${r.errors} failed at ${arm.target.url}`);
    requests = r.samples.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu1 = schedCpuMs(arm.pid);
  const core1 = coreTicks(0);
  const sw1 = switches(arm.pid);
  const spunMs = companionPid ? (cpuSeconds(companionPid) - spun0) * 1000 : 0;
  const loop1 = await loopProbe(dir, arm.pid, hooks ? 'hooks-off' : profile ? `prof-stop ${profile}` : 'snap');
  const sys = perf ? await perf.stop() : {};
  const per = (n: number): number => n / requests;
  const turns = loop1.loopCount - loop0.loopCount;
  const row: Row = {
    rps: requests / seconds,
    mainUs: per((cpu1.main - cpu0.main) * 1000),
    allUs: per((cpu1.all - cpu0.all) * 1000),
    turns: per(turns),
    eventsPerTurn: (loop1.events - loop0.events) / turns,
    sleeps: per(sw1.voluntary - sw0.voluntary),
    preempted: per(sw1.involuntary - sw0.involuntary),
    // Core 0's share of the wall time used by others (the host is shared), and stolen by the hypervisor.
    othersOnCore: ((core1.busy - core0.busy) * 10 - (cpu1.all - cpu0.all) - spunMs) / (seconds * 1000),
    steal: ((core1.steal - core0.steal) * 10) / (seconds * 1000),
    elu: (loop1.activeMs - loop0.activeMs) / (loop1.activeMs - loop0.activeMs + loop1.idleMs - loop0.idleMs),
  };
  if (perf) {
    let named = 0;
    for (const s of SYSCALLS) {
      row[s] = per(sys[s] ?? NaN);
      named += sys[s] ?? 0;
    }
    row.otherSys = per(sys['raw_syscalls:sys_enter'] - named);
    row.allSys = per(sys['raw_syscalls:sys_enter']);
    row.ctxSw = per(sys['context-switches']);
    row.wakes = per(sys['sched:sched_waking']);
    row.wakesNoIpi = per(sys['sched:sched_wake_idle_without_ipi']);
    row.ipis = per((sys['ipi:ipi_send_cpu'] ?? 0) + (sys['ipi:ipi_send_cpumask'] ?? 0));
  }
  if (hooks) for (const [type, n] of Object.entries(loop1.counts)) row[`new ${type}`] = per(n);
  else if (profile) for (const [fn, us] of selfTimes(profile)) row[fn] = per(us);
  else process.stderr.write(`${arm.name} ${rate === 'max' ? 'max' : `${rate}/s`}${company ? ` ${company}` : ''}: ${['rps', 'mainUs', 'allUs', 'turns', 'sleeps', 'preempted', 'othersOnCore', 'wakes', 'ipis'].filter((c) => c in row).map((c) => `${c} ${row[c].toFixed(c === 'rps' ? 0 : 3)}`).join(', ')}\n`);
  return row;
}

async function main(): Promise<void> {
  const specs = process.argv.slice(2);
  if (specs.length === 0) specs.push(path.join(here, 'gateway.yaml'));
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-halfload-'));
  const procs: Started[] = [];
  const env = { LOOP_PROBE_DIR: dir };
  try {
    const mock = spawnPinned(1, ['--import=tsx', path.join(here, 'lib/mock-upstream.ts'), '0']);
    procs.push(mock);
    const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
    const bare = spawnPinned(0, [...SERVER_NODE_FLAGS, `--require=${PRELOAD}`, '--import=tsx', path.join(here, 'lib/bare-proxy.ts'), mockUrl, '0'], env);
    procs.push(bare);
    const arms: Arm[] = [{ name: 'bare', pid: bare.pid, target: { url: `http://127.0.0.1:${await listeningPort(bare)}/v1/messages`, headers: {}, body: BODY } }];
    if (WORK_LOOPS > 0) {
      const worker = spawnPinned(0, [...SERVER_NODE_FLAGS, `--require=${PRELOAD}`, '--import=tsx', path.join(here, 'lib/bare-proxy.ts'), mockUrl, '0', '0', String(WORK_LOOPS)], env);
      procs.push(worker);
      arms.push({ name: `bare+${WORK_LOOPS} loops`, pid: worker.pid, target: { url: `http://127.0.0.1:${await listeningPort(worker)}/v1/messages`, headers: {}, body: BODY } });
    }
    for (const [i, spec] of specs.entries()) {
      const [config, entry, flags] = spec.split('::');
      const port = await freePort();
      const gw = spawnPinned(0, [...SERVER_NODE_FLAGS, ...(flags ? flags.split(' ') : []), `--require=${PRELOAD}`, entry || gatewayEntry(root), '--config', path.resolve(config)], {
        ...env,
        AI_GATEWAY_PORT: String(port),
        MOCK_UPSTREAM: mockUrl,
        ANTHROPIC_API_KEY: 'sk-bench',
        AUDIT_FILE: path.join(dir, `audit-${i}.jsonl`),
      });
      procs.push(gw);
      const url = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
      const headers = { 'x-workspace-id': 'ws-bench', 'anthropic-version': '2023-06-01' };
      await waitFor200(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers } });
      arms.push({ name: specs.length === 1 ? 'gateway' : `gateway ${i + 1}`, pid: gw.pid, target: { url, headers, body: BODY } });
    }
    for (const arm of arms) await warmUp(arm.target.url, arm.target.headers, BODY, WARMUP);

    const rows = new Map<string, Row[]>();
    const add = (key: string, row: Row): void => void (rows.get(key) ?? rows.set(key, []).get(key)!).push(row);
    let rate = FIXED_RATE;
    for (let t = 0; t < TRIALS; t++) {
      const order = t % 2 === 0 ? arms : [...arms].reverse();
      for (const arm of order) add(`${arm.name}|max`, await measure(dir, arm, 'max', 'plain'));
      rate ??= Math.round(rows.get('bare|max')![0].rps / 2);
      for (const arm of order) add(`${arm.name}|${rate}/s`, await measure(dir, arm, rate, 'plain'));
      for (const company of COMPANY) {
        for (const arm of order) add(`${arm.name}|max ${company}`, await measure(dir, arm, 'max', 'plain', company));
        for (const arm of order) add(`${arm.name}|${rate}/s ${company}`, await measure(dir, arm, rate, 'plain', company));
      }
      process.stderr.write(`trial ${t + 1} of ${TRIALS} done\n`);
    }
    // Async resources per request: one run per arm and load, hooks on.
    const created = new Map<string, Row>();
    for (const arm of arms) for (const load of ['max', rate!] as const) created.set(`${arm.name}|${load === 'max' ? 'max' : `${load}/s`}`, await measure(dir, arm, load, 'hooks'));

    const keys = [...rows.keys()].sort();
    const columns = [...new Set(keys.flatMap((k) => rows.get(k)!.flatMap((r) => Object.keys(r))))];
    const hookColumns = ['new Timeout', 'new Immediate', 'new TickObject', 'new PROMISE'];
    const digits = (c: string): number => (c === 'rps' ? 0 : c.endsWith('Us') ? 1 : 3);
    process.stdout.write(`| arm · load | ${[...columns, ...hookColumns].join(' | ')} |\n|${'---|'.repeat(columns.length + hookColumns.length + 1)}\n`);
    for (const key of keys) {
      const values = columns.map((c) => median(rows.get(key)!.map((r) => r[c])).toFixed(digits(c)));
      const hooks = hookColumns.map((c) => (created.get(key)?.[c] ?? 0).toFixed(2));
      process.stdout.write(`| ${key.replace('|', ' · ')} | ${[...values, ...hooks].join(' | ')} |\n`);
    }
    process.stdout.write(
      `\nPer request, medians of ${TRIALS} trials of ${SECONDS} s after ${WARMUP} requests of warm-up; 1 KB bodies, 16 connections; ` +
        `mainUs / allUs: CPU of the main thread / all threads; turns: event-loop iterations; eventsPerTurn: I/O events per turn; elu: event-loop utilization; ` +
        `syscalls and ctxSw from perf stat; new …: async resources created (a pass of its own, hooks on).\n`,
    );
    if (PROFILE) {
      // Profiled runs last: the profiler's own cost is in them, alike at both loads.
      const figures = new Set(['rps', 'mainUs', 'allUs', 'turns', 'eventsPerTurn', 'sleeps', 'preempted', 'othersOnCore', 'steal', 'elu']);
      for (const arm of arms) {
        const max = await measure(dir, arm, 'max', 'profile');
        const fixed = await measure(dir, arm, rate!, 'profile');
        const fns = [...new Set([...Object.keys(max), ...Object.keys(fixed)])].filter((f) => !figures.has(f) && f !== '(idle)');
        const total = (r: Row): number => fns.reduce((sum, f) => sum + (r[f] ?? 0), 0);
        const diff = (f: string): number => (fixed[f] ?? 0) - (max[f] ?? 0);
        process.stdout.write(`\n${arm.name}, main thread profiled (µs a request, self time; main-thread CPU ${max.mainUs.toFixed(1)} at max, ${fixed.mainUs.toFixed(1)} at ${rate}/s; sampled busy ${total(max).toFixed(1)} and ${total(fixed).toFixed(1)}):\n| function | max | ${rate}/s | difference |\n|---|---|---|---|\n`);
        for (const f of fns.sort((a, b) => Math.abs(diff(b)) - Math.abs(diff(a))).slice(0, 15)) {
          process.stdout.write(`| ${f} | ${(max[f] ?? 0).toFixed(2)} | ${(fixed[f] ?? 0).toFixed(2)} | ${diff(f) >= 0 ? '+' : ''}${diff(f).toFixed(2)} |\n`);
        }
      }
    }
  } finally {
    for (const p of procs) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
