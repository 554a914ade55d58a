/** Units: address parsing, CIDR sets (IPv4, IPv6, IPv4-mapped) and the X-Forwarded-For walk. */
import { isIPv6 } from 'node:net';
import t from 'tap';
import { CidrSet, clientAddress, isIPv6Text, parseAddress } from '../../../filters/network/matcher.js';

t.test('parseAddress: families, mapped IPv6, ports, brackets, zones, garbage', async (t) => {
  t.same(parseAddress('10.1.2.3'), { address: '10.1.2.3', family: 'ipv4' });
  t.same(parseAddress('::ffff:10.1.2.3'), { address: '10.1.2.3', family: 'ipv4' }, 'dual-stack socket form');
  t.same(parseAddress('::FFFF:7f00:1'), { address: '127.0.0.1', family: 'ipv4' }, 'hex mapped form');
  t.same(parseAddress('0:0:0:0:0:ffff:192.168.0.1'), { address: '192.168.0.1', family: 'ipv4' });
  t.same(parseAddress('2001:DB8::1'), { address: '2001:db8::1', family: 'ipv6' });
  t.same(parseAddress('[2001:db8::1]:443'), { address: '2001:db8::1', family: 'ipv6' });
  t.same(parseAddress('10.0.0.1:5000'), { address: '10.0.0.1', family: 'ipv4' });
  t.same(parseAddress('fe80::1%eth0'), { address: 'fe80::1', family: 'ipv6' });
  t.same(parseAddress(' 10.0.0.1 '), { address: '10.0.0.1', family: 'ipv4' });
  for (const bad of ['', 'unknown', '10.0.0', '1.2.3.4.5', '::ffff:999.1.1.1', '[::1', 'example.com']) t.equal(parseAddress(bad), undefined, `"${bad}" is not an address`);
});

t.test('CidrSet: IPv4 and IPv6 ranges, single addresses, mapped peers, bad entries', async (t) => {
  const set = new CidrSet(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '2001:db8::1', '::ffff:172.16.0.0/108']);
  const has = (a: string) => set.has(parseAddress(a)!);
  t.ok(has('10.255.0.1'));
  t.notOk(has('11.0.0.1'));
  t.ok(has('::ffff:10.1.2.3'), 'an IPv4-mapped peer matches the IPv4 range');
  t.ok(has('192.168.1.7'));
  t.notOk(has('192.168.1.8'), 'a bare address is a /32');
  t.ok(has('fd12:3456::1'));
  t.notOk(has('fe80::1'));
  t.ok(has('2001:db8::1'));
  t.notOk(has('2001:db8::2'), 'a bare IPv6 address is a /128');
  t.ok(has('172.16.5.5'), 'a mapped CIDR names the IPv4 range it carries (/108 = /12)');
  t.notOk(has('172.32.0.1'));
  const all = new CidrSet(['0.0.0.0/0', '::/0']);
  for (const a of ['1.2.3.4', '::1', '::ffff:8.8.8.8']) t.ok(all.has(parseAddress(a)!), `${a} in 0.0.0.0/0 + ::/0`);
  t.notOk(new CidrSet(['0.0.0.0/0']).has(parseAddress('::1')!), 'IPv4 rules do not admit IPv6 peers');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'fd00::/129', 'nonsense/8', '10.0.0.0/x']) t.throws(() => new CidrSet([bad]), { message: new RegExp(bad.replace(/[./]/g, '\\$&')) }, `"${bad}" is refused`);
});

t.test('clientAddress: XFF is walked from the right past trusted proxies only', async (t) => {
  const trusted = new CidrSet(['127.0.0.1', '10.0.0.0/24']);
  const none = new CidrSet([]);
  const client = (peer: string, xff?: string | string[], tr = trusted) => clientAddress(peer, xff, tr)?.address;
  t.equal(client('127.0.0.1'), '127.0.0.1', 'no header: the peer');
  t.equal(client('127.0.0.1', '203.0.113.9'), '203.0.113.9', 'trusted peer: the header names the client');
  t.equal(client('::ffff:127.0.0.1', '203.0.113.9'), '203.0.113.9', 'a mapped trusted peer is trusted');
  t.equal(client('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.5'), '203.0.113.9', 'right to left: skip the trusted hop, stop at the first untrusted');
  t.equal(client('127.0.0.1', ['198.51.100.1', '203.0.113.9']), '203.0.113.9', 'repeated headers are one list');
  t.equal(client('127.0.0.1', '10.0.0.7, 10.0.0.5'), '10.0.0.7', 'every hop trusted: the left-most');
  t.equal(client('192.0.2.50', '10.0.0.5'), '192.0.2.50', 'an untrusted peer cannot choose its address');
  t.equal(client('127.0.0.1', '10.0.0.5', none), '127.0.0.1', 'no trusted proxies: the header is ignored');
  t.equal(client('127.0.0.1', 'garbage, 10.0.0.5'), undefined, 'an unparseable hop is not guessed past');
  t.equal(client('127.0.0.1', '[2001:db8::7]:1234'), '2001:db8::7');
  t.equal(client('127.0.0.1', ''), '127.0.0.1', 'an empty header: the peer');
});

t.test('isIPv6Text accepts exactly what net.isIPv6 accepts (zones aside)', async (t) => {
  const edges = ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8', '1:2:3:4:5:6:7:8:9', ':::', '1:::2', ':1::', '::1:', '1::2::3',
    '::1.2.3.4', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '::01.2.3.4', '::1.2.3', '1.2.3.4::', '::1.2.3.4:1', '::1.2.3.256',
    'fffff::', '0000::', 'FfFf::', 'g::', '', ':', '1:2', '1.2.3.4'];
  for (const s of edges) t.equal(isIPv6Text(s), isIPv6(s), JSON.stringify(s));
  // Well-formed addresses (compressed or not, with IPv4 tails, some octets out of range),
  // then up to two one-character edits; seeded so a failure repeats.
  let seed = 12345;
  const rnd = (k: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * k);
  };
  const HEX = '0123456789abcdefABCDEF';
  let valid = 0;
  const wrong: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    let groups = Array.from({ length: 8 }, () => Array.from({ length: 1 + rnd(5) }, () => HEX[rnd(HEX.length)]).join(''));
    let v4 = '';
    if (rnd(3) === 0) {
      groups = groups.slice(0, 6);
      v4 = Array.from({ length: 4 }, () => String(rnd(3) === 0 ? rnd(300) : rnd(256)).padStart(rnd(4) === 0 ? 3 : 1, '0')).join('.');
    }
    let s = groups.join(':');
    if (rnd(2) === 0) {
      const a = rnd(groups.length + 1);
      s = groups.slice(0, a).join(':') + '::' + groups.slice(a + rnd(groups.length - a + 1)).join(':');
    }
    if (v4) s = s.endsWith(':') ? s + v4 : s + ':' + v4;
    for (let m = rnd(3); m > 0; m--) {
      const at = rnd(s.length + 1);
      const c = ':.0fG'[rnd(5)];
      const op = rnd(3);
      s = op === 0 ? s.slice(0, at) + c + s.slice(at) : op === 1 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at + 1);
    }
    if (isIPv6(s)) valid++;
    if (isIPv6Text(s) !== isIPv6(s)) wrong.push(s);
  }
  t.same(wrong, [], 'no disagreement');
  t.ok(valid > 2_000, `the corpus holds valid addresses too (${valid})`);
});
