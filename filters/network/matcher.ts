/**
 * Address matching for the `network` filter: CIDR lists compiled once into `node:net`
 * BlockLists, IPv4-mapped IPv6 (`::ffff:10.1.2.3`, how a dual-stack socket reports an
 * IPv4 peer) matched as the IPv4 address it carries, and the client address found by
 * walking `X-Forwarded-For` from the right past trusted proxies only.
 */
import { BlockList, isIPv4 } from 'node:net';

/** A parsed address: its canonical text and family. */
export interface Address {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
}

const MAPPED_DOTTED = /^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/**
 * Parse one address as a socket or a proxy reports it: zone ids, brackets and ports
 * (`[::1]:443`, `10.0.0.1:5000`) are dropped, IPv4-mapped IPv6 becomes IPv4.
 * Returns undefined for anything that is not an IP address.
 */
export function parseAddress(raw: string): Address | undefined {
  let s = raw.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    s = s.slice(1, end);
  } else if (s.indexOf(':') > 0 && s.indexOf(':') === s.lastIndexOf(':') && s.includes('.')) {
    s = s.slice(0, s.indexOf(':')); // IPv4 with a port
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) return { address: s, family: 'ipv4' };
  if (!isIPv6Text(s)) return undefined;
  const dotted = MAPPED_DOTTED.exec(s);
  if (dotted && isIPv4(dotted[1])) return { address: dotted[1], family: 'ipv4' };
  const hex = MAPPED_HEX.exec(s);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address: s.toLowerCase(), family: 'ipv6' };
}

/**
 * Whether `s` is an IPv6 address in text form (RFC 4291 §2.2, no zone): eight groups of 1–4
 * hex digits, one `::` standing for one or more zero groups, the last two groups optionally
 * a dotted IPv4 address. What `net.isIPv6` accepts without a zone; that is one large regular
 * expression, and its first use compiles it, ~9 ms of the gateway's start-up with `::/0`.
 */
export function isIPv6Text(s: string): boolean {
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return false;
  let groups = s;
  let wanted = 8;
  if (s.indexOf('.', lastColon) > 0) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    groups = s.slice(0, lastColon + 1) + '0'; // the IPv4 tail, as one group of the right shape
    wanted = 7;
  }
  const gap = groups.indexOf('::');
  if (gap < 0) return hexGroups(groups) === wanted;
  if (groups.indexOf('::', gap + 1) >= 0) return false;
  const before = gap === 0 ? 0 : hexGroups(groups.slice(0, gap));
  const after = gap + 2 === groups.length ? 0 : hexGroups(groups.slice(gap + 2));
  return before >= 0 && after >= 0 && before + after < wanted;
}

/** How many `:`-separated groups of 1–4 hex digits `s` is, or -1. */
function hexGroups(s: string): number {
  let groups = 1;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) {
      if (digits === 0) return -1;
      groups++;
      digits = 0;
    } else if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102)) {
      if (++digits > 4) return -1;
    } else {
      return -1;
    }
  }
  return digits === 0 ? -1 : groups;
}

/** A set of CIDR ranges (or single addresses). */
export class CidrSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws with the offending entry when one is not a valid address or CIDR. */
  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const slash = cidr.indexOf('/');
      const addr = parseAddress(slash < 0 ? cidr : cidr.slice(0, slash));
      if (!addr) throw new Error(`"${cidr}" is not an IP address or CIDR range`);
      const max = addr.family === 'ipv4' ? 32 : 128;
      let prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max + 96 || (slash >= 0 && cidr.slice(slash + 1).trim() === '')) {
        throw new Error(`"${cidr}": the prefix length must be 0 to ${max}`);
      }
      // ::ffff:10.0.0.0/104 names the IPv4 range 10.0.0.0/8.
      const mapped = addr.family === 'ipv4' && cidr.slice(0, slash < 0 ? undefined : slash).includes(':');
      if (mapped) prefix -= 96;
      if (prefix < 0 || prefix > max) throw new Error(`"${cidr}": the prefix length must be 0 to ${max}`);
      this.list.addSubnet(addr.address, prefix, addr.family);
    }
    this.size = cidrs.length;
  }

  has(addr: Address): boolean {
    return this.list.check(addr.address, addr.family);
  }
}

/**
 * The client's address: the socket peer, or, when the peer is a trusted proxy, the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy. An entry that
 * is not an address stops the walk and is returned as undefined (never guessed past).
 * When every entry is trusted, the left-most one is the client.
 */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, trusted: CidrSet): Address | undefined {
  const direct = parseAddress(peer);
  if (!direct || trusted.size === 0 || !trusted.has(direct) || forwardedFor === undefined) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => h.trim()).filter((h) => h !== '');
  let client: Address = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i]);
    if (!hop) return undefined;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}
