/**
 * A TCP relay on a free loopback port standing for what sits between the gateway and a
 * managed Redis: a primary endpoint whose target a failover moves (`target`), and a network
 * that can silently drop the flows it already carries (`blackholeOpen`) — neither end hears a
 * reset, as when a host dies, a NAT or load balancer forgets its flows, or a VIP moves — and
 * leave new connection attempts unanswered (`leaveNewUnanswered`), as a dead host's address does.
 */
import net from 'node:net';
import { freePort } from './ports.js';
import { leaveUnanswered, type UnansweredPort } from './unanswered-port.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TcpProxy {
  readonly port: number;
  /** The loopback port new connections are relayed to. */
  target: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** From now on, bytes on every connection open now are dropped both ways and the sockets left open. */
  blackholeOpen(): void;
  /** Stop listening: new connections are refused; open ones carry on (or stay blackholed). */
  refuseNew(): Promise<void>;
  /** Stop listening, and leave new connection attempts unanswered (no accept, no refusal). */
  leaveNewUnanswered(): Promise<void>;
  /** Relay new connections again, on the same port. */
  acceptNew(): Promise<void>;
}

export async function startTcpProxy(t: Teardown, target: number): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<{ client: net.Socket; upstream: net.Socket; dropped: boolean }>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(proxy.target, '127.0.0.1');
    const pair = { client, upstream, dropped: false };
    open.add(pair);
    const relay = (from: net.Socket, to: net.Socket) => from.on('data', (chunk: Buffer) => pair.dropped || to.write(chunk));
    relay(client, upstream);
    relay(upstream, client);
    const close = (): void => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A blackholed flow stays silent: neither end learns that the other went away.
    client.on('close', () => pair.dropped || close());
    upstream.on('close', () => pair.dropped || close());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  const listen = (): Promise<void> => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen();
  let unanswered: UnansweredPort | undefined;
  const proxy: TcpProxy = {
    port,
    target,
    get accepted() {
      return accepted;
    },
    blackholeOpen() {
      for (const pair of open) pair.dropped = true;
    },
    // The listening socket closes at once; 'close' itself waits for the open connections.
    refuseNew: async () => {
      if (server.listening) server.close();
    },
    leaveNewUnanswered: async () => {
      await proxy.refuseNew();
      unanswered ??= await leaveUnanswered(port);
    },
    acceptNew: async () => {
      await unanswered?.release();
      unanswered = undefined;
      if (!server.listening) await listen();
    },
  };
  t.teardown(async () => {
    await proxy.refuseNew();
    await unanswered?.release();
    for (const { client, upstream } of open) {
      client.destroy();
      upstream.destroy();
    }
  });
  return proxy;
}
