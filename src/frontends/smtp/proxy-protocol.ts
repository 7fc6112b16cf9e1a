/**
 * HAProxy PROXY protocol v1 and v2 header reader (pure; https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt).
 *
 * smtp-server only reads v1, and a load balancer sending v2 (HAProxy `send-proxy-v2`, AWS NLB) is
 * common, so we read both ourselves in front of smtp-server. Trust is decided by the caller: this
 * module only parses bytes.
 */
import net from 'node:net';

/** v2 signature, §2.2. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** A v1 line is at most 107 bytes including CRLF (§2.1). */
const V1_MAX = 107;
/** Largest v2 header we accept: 16 + 216 address bytes + TLVs; 4 KiB is plenty (HAProxy caps lower). */
const V2_MAX = 4096;

export interface ProxyAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destAddress: string;
  readonly destPort: number;
}

export type ProxyParse =
  /** Not enough bytes yet to decide. */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * A complete header of `length` bytes. `addresses` is undefined for v1 UNKNOWN, v2 LOCAL and
   * v2 UNSPEC/UNIX: the spec says to use the socket's own addresses then (§2.1, §2.2).
   */
  | { readonly kind: 'ok'; readonly version: 1 | 2; readonly length: number; readonly addresses?: ProxyAddresses; readonly uniqueId?: string };

/** Parse a PROXY header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  const sigLen = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.subarray(0, sigLen).equals(V2_SIGNATURE.subarray(0, sigLen))) {
    return buf.length < 16 ? { kind: 'incomplete' } : parseV2(buf);
  }
  const v1Prefix = Buffer.from('PROXY ');
  const pLen = Math.min(buf.length, v1Prefix.length);
  if (buf.subarray(0, pLen).equals(v1Prefix.subarray(0, pLen))) return parseV1(buf);
  return { kind: 'invalid', reason: 'no PROXY protocol signature' };
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    return buf.length >= V1_MAX ? { kind: 'invalid', reason: 'v1 header longer than 107 bytes' } : { kind: 'incomplete' };
  }
  if (end + 2 > V1_MAX) return { kind: 'invalid', reason: 'v1 header longer than 107 bytes' };
  const line = buf.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  const proto = parts[1];
  if (proto === 'UNKNOWN') return { kind: 'ok', version: 1, length: end + 2 };
  if ((proto !== 'TCP4' && proto !== 'TCP6') || parts.length !== 6) return { kind: 'invalid', reason: 'malformed v1 header' };
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : 6;
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return { kind: 'invalid', reason: 'bad v1 address' };
  const sp = parsePort(sport);
  const dp = parsePort(dport);
  if (sp === undefined || dp === undefined) return { kind: 'invalid', reason: 'bad v1 port' };
  return { kind: 'ok', version: 1, length: end + 2, addresses: { sourceAddress: src, sourcePort: sp, destAddress: dst, destPort: dp } };
}

function parsePort(s: string): number | undefined {
  // §2.1: ports are decimal without leading zeroes, 0..65535.
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function parseV2(buf: Buffer): ProxyParse {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: 'unsupported v2 version' };
  const command = verCmd & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: 'unknown v2 command' };
  const famProto = buf[13]!;
  const len = buf.readUInt16BE(14);
  const total = 16 + len;
  if (total > V2_MAX) return { kind: 'invalid', reason: 'v2 header too long' };
  if (buf.length < total) return { kind: 'incomplete' };
  // LOCAL (health checks from the balancer itself): honour `len`, use the socket's addresses (§2.2).
  if (command === 0) return { kind: 'ok', version: 2, length: total };
  let addresses: ProxyAddresses | undefined;
  let addrLen = 0;
  if (famProto === 0x11) {
    addrLen = 12;
    if (len < addrLen) return { kind: 'invalid', reason: 'v2 TCP4 block too short' };
    addresses = {
      sourceAddress: ipv4(buf.subarray(16, 20)),
      destAddress: ipv4(buf.subarray(20, 24)),
      sourcePort: buf.readUInt16BE(24),
      destPort: buf.readUInt16BE(26),
    };
  } else if (famProto === 0x21) {
    addrLen = 36;
    if (len < addrLen) return { kind: 'invalid', reason: 'v2 TCP6 block too short' };
    addresses = {
      sourceAddress: ipv6(buf.subarray(16, 32)),
      destAddress: ipv6(buf.subarray(32, 48)),
      sourcePort: buf.readUInt16BE(48),
      destPort: buf.readUInt16BE(50),
    };
  } else if (famProto === 0x00 || famProto === 0x31 || famProto === 0x32) {
    // UNSPEC or UNIX sockets: no usable client address; keep the socket's (§2.2).
    addresses = undefined;
    addrLen = famProto === 0x00 ? 0 : Math.min(len, 216);
  } else {
    // UDP (0x12, 0x22) or garbage: an SMTP listener has no use for it.
    return { kind: 'invalid', reason: `unsupported v2 family/protocol 0x${famProto.toString(16)}` };
  }
  const uniqueId = readUniqueId(buf.subarray(16 + addrLen, total));
  return { kind: 'ok', version: 2, length: total, ...(addresses ? { addresses } : {}), ...(uniqueId ? { uniqueId } : {}) };
}

/** TLV 0x05 PP2_TYPE_UNIQUE_ID (§2.2.5), a handy trace id; other TLVs are skipped. */
function readUniqueId(tlvs: Buffer): string | undefined {
  let i = 0;
  while (i + 3 <= tlvs.length) {
    const type = tlvs[i]!;
    const l = tlvs.readUInt16BE(i + 1);
    if (i + 3 + l > tlvs.length) return undefined;
    if (type === 0x05 && l > 0 && l <= 128) return tlvs.subarray(i + 3, i + 3 + l).toString('hex');
    i += 3 + l;
  }
  return undefined;
}

function ipv4(b: Buffer): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function ipv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Let the platform canonicalise (compress zeros, IPv4-mapped form) via a SocketAddress round trip.
  const full = groups.join(':');
  try {
    return new net.SocketAddress({ address: full, family: 'ipv6' }).address;
  } catch {
    return full;
  }
}
