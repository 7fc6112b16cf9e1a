/** Shared value types for config sections. */
import { z } from 'zod';
import net from 'node:net';

/** `host:port`, `[v6]:port`; host may be a name. */
export const hostPort = z.string().refine((s) => parseHostPort(s) !== undefined, {
  message: 'expected host:port (IPv6 as [addr]:port)',
});
export const hostPortList = z.array(hostPort).min(1);

/**
 * A `listen` entry: `host:port`, or `systemd` / `systemd:NAME` for sockets passed by systemd
 * socket activation (all of them / those with FileDescriptorName=NAME; src/frontends/listen-fds.ts).
 */
export type ListenEntry = ({ kind: 'tcp' } & HostPort) | { kind: 'systemd'; name?: string };

export function parseListenEntry(s: string): ListenEntry | undefined {
  if (s === 'systemd') return { kind: 'systemd' };
  // systemd.socket(5) FileDescriptorName=: up to 255 ASCII characters, no control characters, no ':'.
  const m = /^systemd:([\x20-\x39\x3b-\x7e]{1,255})$/.exec(s);
  if (m) return { kind: 'systemd', name: m[1]! };
  const hp = parseHostPort(s);
  return hp && { kind: 'tcp', ...hp };
}

export const listenList = z
  .array(
    z.string().refine((s) => parseListenEntry(s) !== undefined, {
      message: 'expected host:port (IPv6 as [addr]:port), systemd or systemd:NAME (socket activation)',
    }),
  )
  .min(1);

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(s: string): HostPort | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:\s]+):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const host = m[1]!;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  if (s.startsWith('[') && net.isIPv6(host) === false) return undefined;
  return { host, port };
}

/** Parsed form for code that already has a validated string. */
export function toHostPort(s: string): HostPort {
  const hp = parseHostPort(s);
  if (!hp) throw new Error(`invalid host:port ${s}`);
  return hp;
}

/** An IP address or CIDR network. */
export const cidr = z.string().refine((s) => {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return false;
  const v = net.isIP(addr);
  if (!v) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (v === 4 ? 32 : 128);
}, 'expected an IP address or CIDR network');
