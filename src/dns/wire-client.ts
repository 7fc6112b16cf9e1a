/**
 * A small DNS stub client on dns-packet over node:dgram (TCP on truncation).
 *
 * Why our own instead of node's `dns.Resolver`: node only reports TTLs for A/AAAA, so TXT (SPF,
 * DKIM, DMARC), MX and PTR answers could not be cached for their real lifetime; its timeout is per
 * resolver, not per query, and it takes no AbortSignal; and it hides the SOA of negative answers
 * that RFC 2308 negative caching needs. One fresh UDP socket per query gives a random source port
 * next to the random query id (RFC 5452 §9.2), and answers are only accepted from the server asked
 * and for the question asked (RFC 5452 §4.1–4.3).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket, { type Packet } from 'dns-packet';
import type { HostPort } from '../config/types.js';
import type { RRType } from './resolver-api.js';

export class WireTimeout extends Error {
  constructor() {
    super('DNS query timed out');
  }
}
export class WireAborted extends Error {
  constructor() {
    super('DNS query aborted');
  }
}

function encodeQuery(id: number, name: string, type: RRType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
  });
}

function sameQuestion(p: Packet, id: number, name: string, type: RRType): boolean {
  const q = p.questions?.[0];
  return p.id === id && q !== undefined && q.type === type && q.name.toLowerCase() === name.toLowerCase();
}

interface Deadline {
  readonly ms: number;
  readonly signal?: AbortSignal;
}

/** Waits for `setup` to settle, failing at the deadline or on abort; `cleanup` always runs. */
function guarded<T>(d: Deadline, setup: (ok: (v: T) => void, fail: (e: Error) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (d.signal?.aborted) return reject(new WireAborted());
    let done = false;
    let cleanup: () => void = () => undefined;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      d.signal?.removeEventListener('abort', onAbort);
      cleanup();
      fn();
    };
    const onAbort = () => finish(() => reject(new WireAborted()));
    const timer = setTimeout(() => finish(() => reject(new WireTimeout())), d.ms);
    d.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = setup(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
  });
}

export function queryUdp(server: HostPort, name: string, type: RRType, d: Deadline): Promise<Packet> {
  const id = randomInt(0, 65536);
  const msg = encodeQuery(id, name, type);
  return guarded<Packet>(d, (ok, fail) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    sock.on('error', fail);
    sock.on('message', (buf, rinfo) => {
      if (rinfo.port !== server.port || rinfo.address !== server.host) return; // spoof guard
      let p: Packet;
      try {
        p = dnsPacket.decode(buf);
      } catch {
        return; // garbage: keep waiting for the real answer
      }
      if (sameQuestion(p, id, name, type)) ok(p);
    });
    sock.send(msg, server.port, server.host, (err) => {
      if (err) fail(err);
    });
    return () => {
      sock.removeAllListeners('message');
      sock.on('error', () => undefined);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    };
  });
}

/** RFC 1035 §4.2.2 / RFC 7766: retry over TCP when the UDP answer was truncated (TC bit). */
export function queryTcp(server: HostPort, name: string, type: RRType, d: Deadline): Promise<Packet> {
  const id = randomInt(0, 65536);
  const msg = dnsPacket.streamEncode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
  });
  return guarded<Packet>(d, (ok, fail) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    sock.on('error', fail);
    sock.on('connect', () => sock.write(msg));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < len + 2) return;
      try {
        const p = dnsPacket.streamDecode(buf.subarray(0, len + 2));
        if (sameQuestion(p, id, name, type)) ok(p);
        else fail(new Error('mismatched TCP answer'));
      } catch (e) {
        fail(e as Error);
      }
    });
    sock.on('close', () => fail(new Error('TCP connection closed before the answer')));
    return () => {
      sock.removeAllListeners('close');
      sock.on('error', () => undefined);
      sock.destroy();
    };
  });
}

export function isTruncated(p: Packet): boolean {
  return ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;
}
