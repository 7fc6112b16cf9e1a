/**
 * What happens to a TCP connection before smtp-server sees it:
 *
 * 1. PROXY protocol (v1 and v2) — only from `proxyProtocol.trusted` peers, and from them it is
 *    required (HAProxy proxy-protocol.txt §2: never auto-detect). A trusted peer that sends no valid
 *    header in `proxyProtocol.timeoutMs` is dropped. An untrusted peer's "PROXY …" line is just a
 *    bad SMTP command to smtp-server: no trust is ever taken from it.
 * 2. Connection limits on the real client address: limits.maxClients and limits.maxClientsPerIp
 *    → `421 4.7.0` and close (RFC 5321 §3.1 allows 421 instead of the greeting).
 * 3. Hand-off to smtp-server via `SMTPServer#connect(socket, {remoteAddress, …})` so every later
 *    stage sees the real client.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics/metrics.js';
import { REPLIES, formatReply } from '../../core/replies.js';
import { parseProxyHeader } from './proxy-protocol.js';

export interface ClientAddress {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export interface GateLimits {
  readonly trusted: readonly string[];
  readonly proxyTimeoutMs: number;
  readonly maxClients: number;
  readonly maxClientsPerIp: number;
}

export interface GateDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly handoff: (socket: net.Socket, addr: ClientAddress) => void;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`, so limits and trust lists see one form per address. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** Trust list of addresses and CIDR networks. */
export function buildBlockList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    if (!addr) continue;
    const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

export class ConnectionGate {
  private active = 0;
  private readonly perIp = new Map<string, number>();
  private trusted: net.BlockList;
  /** Sockets we accepted and have not seen close (for shutdown). */
  readonly sockets = new Set<net.Socket>();

  constructor(
    private limits: GateLimits,
    private readonly deps: GateDeps,
  ) {
    this.trusted = buildBlockList(limits.trusted);
  }

  update(limits: GateLimits): void {
    this.limits = limits;
    this.trusted = buildBlockList(limits.trusted);
  }

  /** Connection listener for each listening net.Server. */
  readonly handle = (socket: net.Socket): void => {
    // Errors before smtp-server owns the socket (resets during the PROXY read) must not crash us.
    socket.on('error', () => undefined);
    // Replies go out as soon as they are ready: with Nagle on, a reply written while an earlier
    // one is still unacknowledged (a PIPELINING client's MAIL/RCPT replies, RFC 2920) waits for
    // that ACK, which the client may delay (delayed ACK, up to 40 ms on Linux).
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const peer = normalizeIp(socket.remoteAddress);
    const own: ClientAddress = {
      remoteAddress: peer,
      remotePort: socket.remotePort ?? 0,
      localAddress: normalizeIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
    };
    if (peer && this.trusted.check(peer, net.isIPv6(peer) ? 'ipv6' : 'ipv4')) {
      this.readProxyHeader(socket, own);
    } else {
      this.admit(socket, own);
    }
  };

  private readProxyHeader(socket: net.Socket, own: ClientAddress): void {
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail('timeout'), this.limits.proxyTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const fail = (reason: string) => {
      cleanup();
      this.deps.metrics.connectionsRefused.inc({ reason: 'proxy_header' });
      this.deps.log.warn({ peer: own.remoteAddress, reason }, 'PROXY header missing or invalid from trusted peer; connection dropped');
      socket.destroy();
    };
    const onClose = () => cleanup();
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'invalid') return fail(r.reason);
      cleanup();
      socket.pause();
      // Anything after the header (a client never talks before our banner, but be exact) goes back.
      const rest = buf.subarray(r.length);
      if (rest.length) socket.unshift(rest);
      const a = r.addresses;
      this.admit(
        socket,
        a
          ? { remoteAddress: normalizeIp(a.sourceAddress), remotePort: a.sourcePort, localAddress: normalizeIp(a.destAddress), localPort: a.destPort }
          : own,
      );
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  }

  private admit(socket: net.Socket, addr: ClientAddress): void {
    const ip = addr.remoteAddress;
    const n = this.perIp.get(ip) ?? 0;
    if (this.active >= this.limits.maxClients) return this.refuse(socket, 'max_clients', ip);
    if (n >= this.limits.maxClientsPerIp) return this.refuse(socket, 'per_ip', ip);
    this.active++;
    this.perIp.set(ip, n + 1);
    socket.once('close', () => {
      this.active--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
    this.deps.handoff(socket, addr);
  }

  private refuse(socket: net.Socket, reason: 'max_clients' | 'per_ip', ip: string): void {
    this.deps.metrics.connectionsRefused.inc({ reason });
    this.deps.log.info({ client: ip, reason }, 'connection refused by limits');
    socket.end(formatReply(REPLIES.tooManyConnections) + '\r\n');
    // Do not wait for a client that never reads or closes.
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}
