/**
 * Turns a decoded DNS response into node-shaped records plus the TTL to cache them for.
 * Pure: no sockets, table-tested.
 */
import type { Answer, Packet, SoaAnswer } from 'dns-packet';
import type { RRType } from './resolver-api.js';
import type { DnsErrorCode } from './errors.js';

export type Outcome =
  | { readonly kind: 'records'; readonly records: unknown[]; readonly ttlSec: number }
  | { readonly kind: 'negative'; readonly code: 'ENOTFOUND' | 'ENODATA'; readonly ttlSec: number | undefined }
  | { readonly kind: 'error'; readonly code: DnsErrorCode };

function recordOf(a: Answer): unknown {
  switch (a.type) {
    case 'A':
    case 'AAAA':
    case 'PTR':
    case 'NS':
    case 'CNAME':
      return a.data;
    case 'TXT': {
      // One TXT record = several <character-string>s (RFC 1035 §3.3.14); node returns them unjoined.
      const d = a.data as Buffer | string | (Buffer | string)[];
      const parts = Array.isArray(d) ? d : [d];
      return parts.map((p) => (typeof p === 'string' ? p : p.toString('utf8')));
    }
    case 'MX':
      return { exchange: a.data.exchange, priority: a.data.preference };
    default:
      return undefined;
  }
}

/**
 * Negative-caching TTL per RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the SOA in the authority
 * section; undefined when the server sent none (the caller applies its default).
 */
export function negativeTtl(packet: Packet): number | undefined {
  const soa = (packet.authorities ?? []).find((r): r is SoaAnswer => r.type === 'SOA');
  if (!soa) return undefined;
  return Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
}

export function interpret(packet: Packet, type: RRType): Outcome {
  const rcode = (packet as { rcode?: string }).rcode ?? 'NOERROR';
  if (rcode === 'NXDOMAIN') return { kind: 'negative', code: 'ENOTFOUND', ttlSec: negativeTtl(packet) };
  if (rcode === 'REFUSED') return { kind: 'error', code: 'EREFUSED' };
  if (rcode !== 'NOERROR') return { kind: 'error', code: 'ESERVFAIL' };
  const answers = packet.answers ?? [];
  const matching = answers.filter((a) => a.type === type);
  if (matching.length === 0) return { kind: 'negative', code: 'ENODATA', ttlSec: negativeTtl(packet) };
  // The whole CNAME chain bounds the lifetime of the answer (RFC 2181 §5.2, §10.1.1).
  const relevant = type === 'CNAME' ? matching : answers.filter((a) => a.type === type || a.type === 'CNAME');
  const ttlSec = Math.min(...relevant.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)));
  const records = matching.map(recordOf).filter((r) => r !== undefined);
  return { kind: 'records', records, ttlSec };
}
