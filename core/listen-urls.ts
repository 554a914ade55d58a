/**
 * URLs for a listener's bound address. The start-up log names the address actually bound
 * (`http://0.0.0.0:8090` says it takes connections on every interface) and, for a wildcard
 * bind, a loopback URL an operator can paste on the same host.
 */
import type { AddressInfo } from 'node:net';

export interface ListenUrls {
  /** The address the listener bound, e.g. `http://0.0.0.0:8090`. */
  url: string;
  /** Set when bound to every interface: where it answers on this host. */
  local_url?: string;
}

/** A URL a client on this host can use: a wildcard bind is reached through loopback. */
export function reachableUrl(scheme: string, a: AddressInfo): string {
  return urlFor(scheme, a.family, loopbackFor(a.address) ?? a.address, a.port);
}

export function listenUrls(scheme: string, a: AddressInfo): ListenUrls {
  const url = urlFor(scheme, a.family, a.address, a.port);
  const loopback = loopbackFor(a.address);
  return loopback ? { url, local_url: urlFor(scheme, a.family, loopback, a.port) } : { url };
}

function loopbackFor(address: string): string | undefined {
  return address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : undefined;
}

function urlFor(scheme: string, family: string, address: string, port: number): string {
  return `${scheme}://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}
