import dnsPacket, { type Packet } from 'dns-packet';
import { DnsCache } from '../../../src/dns/cache.js';
import { QueryBudget } from '../../../src/dns/budget.js';
import { interpret, negativeTtl } from '../../../src/dns/answer.js';

const soa = (ttl: number, minimum: number) =>
  ({ type: 'SOA', name: 'example.com', ttl, data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum } }) as const;
const roundTrip = (p: Packet) => dnsPacket.decode(dnsPacket.encode(p));

test('negative TTL is min(SOA TTL, SOA MINIMUM) (RFC 2308 §5); none without an SOA', () => {
  expect(negativeTtl(roundTrip({ type: 'response', authorities: [soa(300, 60)] }))).toBe(60);
  expect(negativeTtl(roundTrip({ type: 'response', authorities: [soa(30, 600)] }))).toBe(30);
  expect(negativeTtl(roundTrip({ type: 'response' }))).toBeUndefined();
});

test('interpret: rcodes and answers to outcomes', () => {
  const nx = roundTrip({ type: 'response', flags: 3, questions: [{ type: 'A', name: 'x.example.com' }], authorities: [soa(100, 50)] });
  expect(interpret(nx, 'A')).toEqual({ kind: 'negative', code: 'ENOTFOUND', ttlSec: 50 });
  const nodata = roundTrip({ type: 'response', answers: [{ type: 'A', name: 'x', ttl: 5, data: '192.0.2.1' }] });
  expect(interpret(nodata, 'TXT')).toEqual({ kind: 'negative', code: 'ENODATA', ttlSec: undefined });
  expect(interpret(roundTrip({ type: 'response', flags: 2 }), 'A')).toEqual({ kind: 'error', code: 'ESERVFAIL' });
  expect(interpret(roundTrip({ type: 'response', flags: 5 }), 'A')).toEqual({ kind: 'error', code: 'EREFUSED' });
  const mx = roundTrip({
    type: 'response',
    answers: [
      { type: 'MX', name: 'x', ttl: 100, data: { preference: 10, exchange: 'mx1.x' } },
      { type: 'MX', name: 'x', ttl: 40, data: { preference: 20, exchange: 'mx2.x' } },
    ],
  });
  expect(interpret(mx, 'MX')).toEqual({
    kind: 'records',
    ttlSec: 40,
    records: [
      { exchange: 'mx1.x', priority: 10 },
      { exchange: 'mx2.x', priority: 20 },
    ],
  });
});

test('cache: expiry by injected clock, LRU eviction, case-insensitive keys', () => {
  let t = 0;
  const c = new DnsCache(2, () => t);
  c.set(DnsCache.key('A.example', 'A'), { records: ['1'] }, 10);
  expect(c.get(DnsCache.key('a.example.', 'A'))?.records).toEqual(['1']);
  t = 10_000;
  expect(c.get(DnsCache.key('a.example', 'A'))).toBeUndefined();
  c.set('k1', { records: [1] }, 60);
  c.set('k2', { records: [2] }, 60);
  c.get('k1'); // k1 recently used
  c.set('k3', { records: [3] }, 60);
  expect(c.get('k2')).toBeUndefined();
  expect(c.get('k1')).toBeDefined();
  c.set('zero', { records: [] }, 0);
  expect(c.get('zero')).toBeUndefined();
});

test('budget: per key, released, aged out', () => {
  let t = 0;
  const b = new QueryBudget(2, () => t, 1000);
  expect([b.take('m1'), b.take('m1'), b.take('m1')]).toEqual([true, true, false]);
  expect(b.take('m2')).toBe(true);
  b.release('m1');
  expect(b.take('m1')).toBe(true);
  expect(b.spent('m1')).toBe(1);
});
