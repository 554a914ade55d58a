/**
 * The floor a Node proxy can reach here: node:http server + undici keep-alive pool,
 * bodies piped both ways without parsing. The gateway is measured against this.
 */
import http from 'node:http';
import { Pool } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host']);

export function createBareProxy(upstream: string): http.Server {
  // As many upstream connections as the gateway allows per origin (1,024), so 1,000 streams really run at once.
  const pool = new Pool(upstream, { connections: 1024, keepAliveTimeout: 60_000 });
  return http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
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

if (import.meta.url === `file://${process.argv[1]}`) {
  process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile
  const server = createBareProxy(process.argv[2]);
  server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
}
