/** Address equality across notations (IPv6 zero compression, IPv4-mapped IPv6). */
import net from 'node:net';
import { expandIPv6, unmapIPv4 } from './reverse.js';

export function canonicalIp(ip: string): string {
  const a = unmapIPv4(ip);
  if (net.isIPv4(a)) return a;
  return expandIPv6(a)?.join(':') ?? a.toLowerCase();
}

export function sameIp(a: string, b: string): boolean {
  return canonicalIp(a) === canonicalIp(b);
}
