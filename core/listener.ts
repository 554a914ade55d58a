/**
 * The client-facing listener: HTTP/1.1 with limits on header size, request time and idle
 * connections. (HTTP/2 joins on the same port in the live-operations work.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from './config/types.js';
import type { GatewayRequest, GatewayResponse } from './handler.js';

export interface Listener {
  readonly server: http.Server;
  address(): AddressInfo;
  close(): Promise<void>;
}

export async function listen(
  config: ServerConfig,
  bind: { host: string; port: number },
  handler: (req: GatewayRequest, res: GatewayResponse) => void,
): Promise<Listener> {
  const server = http.createServer(
    {
      maxHeaderSize: config.max_header_bytes,
      requestTimeout: config.request_timeout_ms,
      headersTimeout: Math.min(60_000, config.request_timeout_ms || 60_000),
      keepAliveTimeout: config.keep_alive_timeout_ms,
      noDelay: true,
      // Reject ambiguous framing (both content-length and transfer-encoding) outright.
      insecureHTTPParser: false,
    },
    handler,
  );
  server.timeout = config.idle_timeout_ms;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
