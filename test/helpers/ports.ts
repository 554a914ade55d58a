/**
 * A loopback port for a server a test starts later (redis-server, postgres, a gateway
 * child). Taken from below the kernel's ephemeral range: a port `listen(0)` hands out is
 * free only until the next outbound connection — any test's client — gets it as its local
 * port, and a server started a moment later then fails with EADDRINUSE. Below that range
 * only another explicit pick can collide, and each pick is checked by binding it.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Picks start here; far above well-known services' ports. */
const LOWEST = 20_000;

/** The first port the kernel uses for outbound connections (Linux's default when unreadable). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const ephemeral = ephemeralStart();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function kernelPick(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A port free right now on 127.0.0.1 that no outbound connection will be given. */
export async function freePort(): Promise<number> {
  // A machine whose ephemeral range starts low leaves no room below it: take the kernel's pick.
  if (ephemeral - LOWEST < 1_000) return kernelPick();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (ephemeral - LOWEST));
    if (await bindable(port)) return port;
  }
  return kernelPick();
}
