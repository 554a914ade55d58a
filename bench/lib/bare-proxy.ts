/**
 * The floor a Node proxy can reach here: node:http server + undici keep-alive pool,
 * bodies piped both ways without parsing. The gateway is measured against this.
 *
 * With `workUs` it also spins that long on each request: a calibration arm, the bare proxy
 * plus a known amount of work of its own, that says what a ratio to the bare proxy means
 * in microseconds of a server's own work on this machine (`compare.ts` CALIBRATE=…).
 * With `loops` it runs a fixed integer loop that many times on each request instead: a
 * fixed amount of work, in registers, whose CPU time says how fast the core ran it
 * (`halfload-probe.ts` WORK_LOOPS=…: does the same work cost more at half load?).
 */
import http from 'node:http';
import { Pool } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host']);

export function createBareProxy(upstream: string, workUs = 0, loops = 0): http.Server {
  // As many upstream connections as the gateway allows per origin (1,024), so 1,000 streams really run at once.
  const pool = new Pool(upstream, { connections: 1024, keepAliveTimeout: 60_000 });
  return http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (workUs > 0) spin(workUs);
    if (loops > 0) work(loops);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && typeof v === 'string') headers[k] = v;
    pool.request({ method: req.method as 'POST', path: req.url!, headers, body: req }, (err, data) => {
      if (err) {
        res.writeHead(502).end();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(data.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
      res.writeHead(data.statusCode, out);
      data.body.pipe(res);
    });
  });
}

/** Busy for `us` microseconds: pure CPU on the server's one core, no allocation. */
function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/** Kept so the loop's result is used and the loop is not optimised away. */
let sink = 0;

/** `loops` dependent multiply-adds: the same instructions every time, no memory touched. */
function work(loops: number): void {
  let x = sink;
  for (let i = 0; i < loops; i++) x = (Math.imul(x, 31) + i) | 0;
  sink = x;
}

// bare-proxy.ts <upstream> [port] [work µs per request] [work loops per request]
if (import.meta.url === `file://${process.argv[1]}`) {
  // Ctrl-C and the bench scripts' SIGTERM exit the process, so that --cpu-prof writes its profile.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
  const server = createBareProxy(process.argv[2], Number(process.argv[4] ?? 0), Number(process.argv[5] ?? 0));
  server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
}
