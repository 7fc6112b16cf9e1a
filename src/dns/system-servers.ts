/** The system's resolvers (/etc/resolv.conf via node's c-ares config) as host:port pairs. */
import dns from 'node:dns';
import type { HostPort } from '../config/types.js';

export function systemServers(): HostPort[] {
  return dns.getServers().map((s) => {
    const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
    if (v6) return { host: v6[1]!, port: Number(v6[2]) };
    const v4 = /^([\d.]+):(\d+)$/.exec(s);
    if (v4) return { host: v4[1]!, port: Number(v4[2]) };
    return { host: s, port: 53 };
  });
}
