/**
 * A real DNS server on 127.0.0.1 (UDP + TCP on the same ephemeral port) serving fixture zones, so
 * DNS-based checks are tested through real sockets and our real resolver (ARCHITECTURE habit 9).
 *
 * - records: A, AAAA, TXT (strings > 255 bytes split into 255-byte character-strings, RFC 1035
 *   §3.3.14 / RFC 7208 §3.3), MX, PTR, NS, CNAME (followed within the fixture), each with a TTL;
 * - NXDOMAIN for names that do not exist (no records, no descendants) vs NODATA (NOERROR, empty),
 *   both with an SOA in the authority section (negative TTL = `negativeTtl`, RFC 2308 §3);
 * - per-name behaviours: SERVFAIL, REFUSED, TIMEOUT (never answers);
 * - answers over 512 bytes on UDP come back truncated (TC) so clients must retry over TCP;
 * - counts queries per name and type for cache tests.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

export type FixtureType = 'A' | 'AAAA' | 'TXT' | 'MX' | 'PTR' | 'NS' | 'CNAME';
export interface FixtureRecord {
  readonly type: FixtureType;
  /** A/AAAA/PTR/NS/CNAME: string; TXT: string or string[] (character-strings); MX: {exchange, priority}. */
  readonly data: string | readonly string[] | { readonly exchange: string; readonly priority: number };
  readonly ttl?: number;
}
/** ANSWER = answer normally (overrides a name-wide behaviour for one type). */
export type NameBehaviour = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'ANSWER';

export interface TestDnsServer {
  readonly port: number;
  /** `127.0.0.1:port`, ready for `dns.servers`. */
  readonly address: string;
  add(name: string, ...records: FixtureRecord[]): void;
  /** Replace all records of a name. */
  set(name: string, ...records: FixtureRecord[]): void;
  remove(name: string): void;
  /** Behaviour for every query of the name, or only for one type (which takes precedence). */
  behave(name: string, b: NameBehaviour | undefined, type?: FixtureType): void;
  /** Queries received for the name (any type unless given). */
  queries(name: string, type?: string): number;
  totalQueries(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  readonly records?: Readonly<Record<string, readonly FixtureRecord[]>>;
  /** Keyed by name, or by `TYPE name` for one type only. */
  readonly behaviours?: Readonly<Record<string, NameBehaviour>>;
  readonly defaultTtl?: number;
  /** TTL / SOA MINIMUM of negative answers. */
  readonly negativeTtl?: number;
}

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

function splitTxt(data: FixtureRecord['data']): Buffer[] {
  const parts = typeof data === 'string' ? [data] : (data as readonly string[]);
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    if (b.length === 0) out.push(b);
    for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
  }
  return out;
}

export async function startDnsServer(opts: DnsServerOptions = {}): Promise<TestDnsServer> {
  const zone = new Map<string, FixtureRecord[]>();
  const behaviours = new Map<string, NameBehaviour>();
  const counts = new Map<string, number>();
  const defaultTtl = opts.defaultTtl ?? 300;
  const negTtl = opts.negativeTtl ?? 30;
  for (const [n, rs] of Object.entries(opts.records ?? {})) zone.set(norm(n), [...rs]);
  const bkey = (name: string, type?: string) => (type ? `${type} ${norm(name)}` : norm(name));
  for (const [n, b] of Object.entries(opts.behaviours ?? {})) {
    const [t, rest] = n.split(' ');
    behaviours.set(rest === undefined ? bkey(n) : bkey(rest, t), b);
  }

  const exists = (n: string) => {
    if (zone.has(n)) return true;
    const suffix = `.${n}`;
    for (const k of zone.keys()) if (k.endsWith(suffix)) return true;
    return false;
  };

  const toAnswer = (name: string, r: FixtureRecord): Answer => {
    const ttl = r.ttl ?? defaultTtl;
    switch (r.type) {
      case 'TXT':
        return { type: 'TXT', name, ttl, data: splitTxt(r.data) };
      case 'MX': {
        const mx = r.data as { exchange: string; priority: number };
        return { type: 'MX', name, ttl, data: { exchange: mx.exchange, preference: mx.priority } };
      }
      default:
        return { type: r.type, name, ttl, data: r.data as string } as Answer;
    }
  };

  function respond(q: Packet): Packet | undefined {
    const question = q.questions?.[0];
    const base = { type: 'response' as const, id: q.id, questions: q.questions };
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
    if (!question) return { ...base, flags: flags | 1 };
    const qname = norm(question.name);
    const key = `${question.type} ${qname}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const b = behaviours.get(`${question.type} ${qname}`) ?? behaviours.get(qname);
    if (b === 'TIMEOUT') return undefined;
    if (b === 'SERVFAIL') return { ...base, flags: flags | 2 };
    if (b === 'REFUSED') return { ...base, flags: flags | 5 };
    const answers: Answer[] = [];
    let name = qname;
    for (let hops = 0; hops < 8; hops++) {
      const rs = zone.get(name) ?? [];
      const direct = rs.filter((r) => r.type === question.type);
      const cname = rs.find((r) => r.type === 'CNAME');
      if (direct.length > 0 || !cname || question.type === 'CNAME') {
        answers.push(...direct.map((r) => toAnswer(name, r)));
        break;
      }
      answers.push(toAnswer(name, cname));
      name = norm(cname.data as string);
    }
    const soaName = qname.split('.').slice(-2).join('.');
    const soa: Answer = {
      type: 'SOA',
      name: soaName,
      ttl: negTtl,
      data: { mname: `ns.${soaName}`, rname: `hostmaster.${soaName}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: negTtl },
    };
    if (answers.length === 0) {
      const nx = !exists(qname);
      return { ...base, flags: flags | (nx ? 3 : 0), answers: [], authorities: [soa] };
    }
    return { ...base, flags, answers };
  }

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    let q: Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const r = respond(q);
    if (!r) return;
    let out = dnsPacket.encode(r);
    if (out.length > 512) {
      out = dnsPacket.encode({ ...r, flags: (r.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
    }
    udp.send(out, rinfo.port, rinfo.address);
  });

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        const len = buf.readUInt16BE(0);
        const frame = buf.subarray(0, len + 2);
        buf = buf.subarray(len + 2);
        try {
          const r = respond(dnsPacket.streamDecode(frame));
          if (r) sock.write(dnsPacket.streamEncode(r));
        } catch {
          sock.destroy();
        }
      }
    });
  });
  // UDP and TCP on the same port number: take a free TCP port, then bind UDP to it. Either may
  // already be taken by an unrelated socket (ephemeral ports are shared by every test running in
  // parallel), so retry with a fresh port rather than fail the suite.
  const port = await bindBoth(udp, tcp);

  return {
    port,
    address: `127.0.0.1:${port}`,
    add: (name, ...records) => zone.set(norm(name), [...(zone.get(norm(name)) ?? []), ...records]),
    set: (name, ...records) => zone.set(norm(name), [...records]),
    remove: (name) => zone.delete(norm(name)),
    behave: (name, b, type) => (b ? behaviours.set(bkey(name, type), b) : behaviours.delete(bkey(name, type))),
    queries: (name, type) => {
      let n = 0;
      for (const [k, v] of counts) {
        const [t, qn] = k.split(' ');
        if (qn === norm(name) && (type === undefined || t === type)) n += v;
      }
      return n;
    },
    totalQueries: () => [...counts.values()].reduce((a, b) => a + b, 0),
    resetCounts: () => counts.clear(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}

async function bindBoth(udp: dgram.Socket, tcp: net.Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await new Promise<number>((res, rej) => {
      tcp.once('error', rej);
      tcp.listen(0, '127.0.0.1', () => {
        tcp.off('error', rej);
        res((tcp.address() as net.AddressInfo).port);
      });
    });
    const bound = await new Promise<boolean>((res) => {
      const onError = (): void => res(false);
      udp.once('error', onError);
      udp.bind(port, '127.0.0.1', () => {
        udp.off('error', onError);
        res(true);
      });
    });
    if (bound) return port;
    await new Promise<void>((r) => tcp.close(() => r()));
    if (attempt >= 20) throw new Error('no free port pair for the test DNS server');
  }
}

/** Shorthands for fixture records. */
export const rr = {
  a: (data: string, ttl?: number): FixtureRecord => ({ type: 'A', data, ttl }),
  aaaa: (data: string, ttl?: number): FixtureRecord => ({ type: 'AAAA', data, ttl }),
  txt: (data: string | readonly string[], ttl?: number): FixtureRecord => ({ type: 'TXT', data, ttl }),
  mx: (priority: number, exchange: string, ttl?: number): FixtureRecord => ({ type: 'MX', data: { priority, exchange }, ttl }),
  ptr: (data: string, ttl?: number): FixtureRecord => ({ type: 'PTR', data, ttl }),
  ns: (data: string, ttl?: number): FixtureRecord => ({ type: 'NS', data, ttl }),
  cname: (data: string, ttl?: number): FixtureRecord => ({ type: 'CNAME', data, ttl }),
};
