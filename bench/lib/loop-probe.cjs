/**
 * Preload (`node --require …/loop-probe.cjs`) for bench/halfload-probe.ts: lets the probe
 * read a server's event-loop counters without touching its code. With LOOP_PROBE_DIR set,
 * on SIGUSR2 it reads the command in `<dir>/cmd-<pid>` ("<seq> snap|hooks-on|hooks-off")
 * and answers in `<dir>/out-<pid>-<seq>.json`: libuv's loop turns and I/O events so far,
 * event-loop utilization, and (between hooks-on and hooks-off) the async resources
 * created, by type — Timeout, Immediate, TickObject, PROMISE… The hook costs CPU, so the
 * probe counts them in a pass of their own. "prof-start" / "prof-stop <file>": V8's CPU
 * profiler over the main thread between the two, written to <file> (.cpuprofile). CommonJS so it loads before any ES module,
 * and without tsx in a process that would otherwise never load it.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const asyncHooks = require('node:async_hooks');
const inspector = require('node:inspector');

const dir = process.env.LOOP_PROBE_DIR;
if (dir) {
  let counts = Object.create(null);
  const hook = asyncHooks.createHook({
    init(_id, type) {
      counts[type] = (counts[type] || 0) + 1;
    },
  });
  let session;
  process.on('SIGUSR2', () => {
    const [seq, cmd, arg] = fs.readFileSync(path.join(dir, `cmd-${process.pid}`), 'utf8').trim().split(' ');
    if (cmd === 'prof-start') {
      session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 100 });
      session.post('Profiler.start');
    } else if (cmd === 'prof-stop') {
      // The in-process session answers synchronously: the profile is written before the answer below.
      session.post('Profiler.stop', (err, res) => {
        if (!err) fs.writeFileSync(arg, JSON.stringify(res.profile));
        session.disconnect();
      });
    } else if (cmd === 'hooks-on') {
      counts = Object.create(null);
      hook.enable();
    } else if (cmd === 'hooks-off') {
      hook.disable();
    }
    const uv = performance.nodeTiming.uvMetricsInfo;
    const elu = performance.eventLoopUtilization();
    const out = { loopCount: uv.loopCount, events: uv.events, idleMs: elu.idle, activeMs: elu.active, counts: { ...counts } };
    fs.writeFileSync(path.join(dir, `out-${process.pid}-${seq}.json`), JSON.stringify(out));
  });
}
