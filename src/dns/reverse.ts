/**
 * Query names for IP-based DNS lists (RFC 5782 §2.1 IPv4, §2.4 IPv6): octets reversed for IPv4,
 * the 32 nibbles of the full address reversed for IPv6 (as in ip6.arpa, RFC 3596 §2.5).
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are looked up as the IPv4 address they carry.
 */
import net from 'node:net';

/** The 8 groups of an IPv6 address as 4-hex-digit strings; undefined when not IPv6. */
export function expandIPv6(ip: string): string[] | undefined {
  if (!net.isIPv6(ip)) return undefined;
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0'));
}

/** a.b.c.d for an IPv4-mapped IPv6 address, else the input. */
export function unmapIPv4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  const g = expandIPv6(ip);
  if (g && g.slice(0, 5).every((x) => x === '0000') && g[5] === 'ffff') {
    const n = parseInt(g[6]!, 16);
    const m2 = parseInt(g[7]!, 16);
    return `${n >> 8}.${n & 255}.${m2 >> 8}.${m2 & 255}`;
  }
  return ip;
}

/** `d.c.b.a` or 32 reversed nibbles; undefined when `ip` is not an IP address. */
export function reverseIp(ip: string): string | undefined {
  const addr = unmapIPv4(ip);
  if (net.isIPv4(addr)) return addr.split('.').reverse().join('.');
  const groups = expandIPv6(addr);
  if (!groups) return undefined;
  return groups.join('').split('').reverse().join('.');
}

/** Loopback, RFC 1918/6598 private, link-local, unique-local: never worth a DNSBL query. */
export function isPrivateIp(ip: string): boolean {
  const addr = unmapIPv4(ip);
  if (net.isIPv4(addr)) {
    const [a, b] = addr.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const g = expandIPv6(addr);
  if (!g) return false;
  const first = parseInt(g[0]!, 16);
  return g.join('') === '0'.repeat(31) + '1' || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}
