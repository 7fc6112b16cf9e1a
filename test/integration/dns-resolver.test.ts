import { createDnsResolver, type CachingDnsResolver } from '../../src/dns/index.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log.js';
import { dnsSection } from '../../src/config/sections/dns.js';
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';

let srv: TestDnsServer;
let metrics: Metrics;
let clock = 1_000_000;
const now = () => clock;

function resolver(over: Record<string, unknown> = {}): CachingDnsResolver {
  const cfg = dnsSection.parse({ servers: [srv.address], timeoutMs: 300, ...over });
  return createDnsResolver(cfg, { metrics, log: silentLogger, now });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

beforeAll(async () => {
  srv = await startDnsServer({
    negativeTtl: 20,
    records: {
      'example.test': [rr.a('192.0.2.1', 60), rr.aaaa('2001:db8::1', 60), rr.mx(10, 'mx.example.test', 120), rr.txt('v=spf1 -all', 90)],
      'long.example.test': [rr.txt('k=rsa; p=' + 'A'.repeat(400))],
      'multi.example.test': [rr.txt(['part one ', 'part two'])],
      'big.example.test': Array.from({ length: 40 }, (_, i) => rr.a(`192.0.2.${i + 1}`)),
      '1.2.0.192.in-addr.arpa': [rr.ptr('host.example.test')],
      'alias.example.test': [rr.cname('example.test', 30)],
      'x.sub.example.test': [rr.a('192.0.2.9')],
    },
    behaviours: { 'servfail.example.test': 'SERVFAIL', 'silent.example.test': 'TIMEOUT' },
  });
});
afterAll(() => srv.close());
beforeEach(() => {
  metrics = createMetrics();
  srv.resetCounts();
});

test('answers come back in node dns.promises shapes', async () => {
  const r = resolver();
  expect(await r.resolve('example.test', 'A')).toEqual(['192.0.2.1']);
  expect(await r.resolve('example.test', 'AAAA')).toEqual(['2001:db8::1']);
  expect(await r.resolve('example.test', 'MX')).toEqual([{ exchange: 'mx.example.test', priority: 10 }]);
  expect(await r.resolve('example.test', 'TXT')).toEqual([['v=spf1 -all']]);
  expect(await r.resolve('multi.example.test', 'TXT')).toEqual([['part one ', 'part two']]);
  expect(await r.resolve('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['host.example.test']);
  expect(await r.resolve('alias.example.test', 'A')).toEqual(['192.0.2.1']);
});

test('long TXT records arrive as 255-byte strings that join to the record', async () => {
  const [rec] = (await resolver().resolve('long.example.test', 'TXT')) as string[][];
  expect(rec!.length).toBe(2);
  expect(rec![0]!.length).toBe(255);
  expect(rec!.join('')).toBe('k=rsa; p=' + 'A'.repeat(400));
});

test('a truncated UDP answer is retried over TCP', async () => {
  const a = await resolver().resolve('big.example.test', 'A');
  expect(a).toHaveLength(40);
});

test('NXDOMAIN, NODATA, SERVFAIL and no answer map to node error codes', async () => {
  const r = resolver();
  expect(await code(r.resolve('nope.example.test', 'A'))).toBe('ENOTFOUND');
  expect(await code(r.resolve('example.test', 'PTR'))).toBe('ENODATA');
  // empty non-terminal: exists because a descendant exists (RFC 8020)
  expect(await code(r.resolve('sub.example.test', 'A'))).toBe('ENODATA');
  expect(await code(r.resolve('servfail.example.test', 'A'))).toBe('ESERVFAIL');
  expect(await code(r.resolve('silent.example.test', 'TXT'))).toBe('ETIMEOUT');
  expect(await code(r.resolve('bad..name', 'A'))).toBe('ENOTFOUND');
  expect(await code(r.resolve('anything.invalid', 'A'))).toBe('ENOTFOUND'); // RFC 6761 §6.4, no query
  expect(srv.queries('anything.invalid')).toBe(0);
  expect(await code(r.resolve(`${'x'.repeat(64)}.example.test`, 'A'))).toBe('ENOTFOUND');
  const text = await metrics.registry.getSingleMetricAsString('spamgate_dns_queries_total');
  expect(text).toContain('result="nxdomain"');
  expect(text).toContain('result="timeout"');
  expect(text).toContain('result="servfail"');
});

test('positive answers are cached for their TTL, then asked again', async () => {
  const r = resolver();
  await r.resolve('example.test', 'TXT');
  await r.resolve('EXAMPLE.test.', 'TXT');
  expect(srv.queries('example.test', 'TXT')).toBe(1);
  clock += 89_000;
  await r.resolve('example.test', 'TXT');
  expect(srv.queries('example.test', 'TXT')).toBe(1);
  clock += 2_000; // past the 90 s TTL
  await r.resolve('example.test', 'TXT');
  expect(srv.queries('example.test', 'TXT')).toBe(2);
});

test('CNAME chains are cached for the shortest TTL in the chain', async () => {
  const r = resolver();
  await r.resolve('alias.example.test', 'A');
  clock += 31_000; // CNAME TTL 30 s < A TTL 60 s
  await r.resolve('alias.example.test', 'A');
  expect(srv.queries('alias.example.test', 'A')).toBe(2);
});

test('negative answers are cached for the SOA minimum (RFC 2308)', async () => {
  const r = resolver();
  expect(await code(r.resolve('gone.example.test', 'A'))).toBe('ENOTFOUND');
  expect(await code(r.resolve('gone.example.test', 'A'))).toBe('ENOTFOUND');
  expect(await code(r.resolve('example.test', 'CNAME'))).toBe('ENODATA');
  expect(await code(r.resolve('example.test', 'CNAME'))).toBe('ENODATA');
  expect(srv.queries('gone.example.test')).toBe(1);
  expect(srv.queries('example.test', 'CNAME')).toBe(1);
  clock += 21_000;
  expect(await code(r.resolve('gone.example.test', 'A'))).toBe('ENOTFOUND');
  expect(srv.queries('gone.example.test')).toBe(2);
});

test('failures are not cached', async () => {
  const r = resolver();
  await code(r.resolve('servfail.example.test', 'A'));
  await code(r.resolve('servfail.example.test', 'A'));
  // two attempts per lookup (retransmission), two lookups
  expect(srv.queries('servfail.example.test')).toBe(4);
});

test('concurrent identical lookups share one query', async () => {
  const r = resolver();
  const all = await Promise.all(Array.from({ length: 5 }, () => r.resolve('x.sub.example.test', 'A')));
  expect(all).toEqual(Array(5).fill(['192.0.2.9']));
  expect(srv.queries('x.sub.example.test')).toBe(1);
});

test('the per-message budget stops lookups past the limit; cache hits are free', async () => {
  const r = resolver({ maxQueriesPerMessage: 2 });
  await r.resolve('example.test', 'A', { budgetKey: 's1' });
  await r.resolve('example.test', 'AAAA', { budgetKey: 's1' });
  await r.resolve('example.test', 'A', { budgetKey: 's1' }); // cached
  expect(await code(r.resolve('example.test', 'MX', { budgetKey: 's1' }))).toBe('EBUDGET');
  expect(await r.resolve('example.test', 'MX', { budgetKey: 's2' })).toHaveLength(1);
  r.releaseBudget('s1');
  expect(r.budgetSpent('s1')).toBe(0);
});

test('callers with their own signals share the query; one abort does not fail the others', async () => {
  const r = resolver({ timeoutMs: 5000 });
  const a = new AbortController();
  const b = new AbortController();
  const pa = r.resolve('x.sub.example.test', 'AAAA', { signal: a.signal });
  const pb = r.resolve('x.sub.example.test', 'AAAA', { signal: b.signal });
  a.abort();
  expect(await code(pa)).toBe('ECANCELLED');
  expect(await code(pb)).toBe('ENODATA');
  expect(srv.queries('x.sub.example.test', 'AAAA')).toBe(1);
});

test('an aborted signal cancels the lookup', async () => {
  const r = resolver({ timeoutMs: 5000 });
  const ac = new AbortController();
  const p = r.resolve('silent.example.test', 'A', { signal: ac.signal });
  ac.abort();
  expect(await code(p)).toBe('ECANCELLED');
});

test('a second server answers when the first one is silent', async () => {
  const dead = await startDnsServer({ behaviours: { 'example.test': 'TIMEOUT' } });
  try {
    const cfg = dnsSection.parse({ servers: [dead.address, srv.address], timeoutMs: 400 });
    const r = createDnsResolver(cfg, { metrics, log: silentLogger });
    expect(await r.resolve('example.test', 'A')).toEqual(['192.0.2.1']);
  } finally {
    await dead.close();
  }
});
