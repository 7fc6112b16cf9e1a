/**
 * DNSBL/DNSWL on the client IP against a loopback DNS server serving list zones: return-code maps
 * (several codes at once), IPv6 nibble names, error codes that must never count, backoff, RFC 5782
 * health probes, DNS failures as 0-score symbols.
 */
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { makeChecks, names, runCheck, sessionView, testConfig, testServices } from '../helpers/dns-check-harness.js';
import { dnsblCheck, type DnsListCheck } from '../../src/checks/connect/dnsbl.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';

const ZEN = {
  name: 'ZEN',
  zone: 'zen.test',
  returnCodes: {
    '127.0.0.2': { symbol: 'RBL_ZEN_SBL', score: 4 },
    '127.0.0.3': { symbol: 'RBL_ZEN_CSS', score: 2 },
    '127.0.0.4': { symbol: 'RBL_ZEN_XBL', score: 4 },
    '127.0.0.9': { symbol: 'RBL_ZEN_DROP', score: 7 },
    '127.0.0.10': { symbol: 'RBL_ZEN_PBL', score: 2 },
    '127.0.0.11': { symbol: 'RBL_ZEN_PBL', score: 2 },
  },
};
const DNSWL = {
  name: 'DNSWL',
  zone: 'list.dnswl.test',
  returnCodes: { '127.0.15.3': { symbol: 'RCVD_IN_DNSWL_HI', score: -3.5 }, '127.0.15.1': { symbol: 'RCVD_IN_DNSWL_LOW', score: -0.7 } },
  errorCodes: ['127.0.0.255'],
};

let srv: TestDnsServer;
let metrics: Metrics;

function check(lists: unknown[], over: Record<string, unknown> = {}): DnsListCheck {
  metrics = createMetrics();
  const cfg = testConfig(srv.address, { checks: { dnsbl: { healthIntervalSec: 0, lists, ...over } } });
  return makeChecks(dnsblCheck, testServices(cfg, metrics))[0] as DnsListCheck;
}
const at = (ip: string) => sessionView({ ip, id: `s-${ip}` });

beforeAll(async () => {
  srv = await startDnsServer({
    negativeTtl: 0, // a list fixed between probes is seen at once
    records: {
      // RFC 5782 §5 test points
      '2.0.0.127.zen.test': [rr.a('127.0.0.2')],
      '2.0.0.127.list.dnswl.test': [rr.a('127.0.15.3')],
      '2.0.0.127.everything.test': [rr.a('127.0.0.2')],
      '1.0.0.127.everything.test': [rr.a('127.0.0.2')],
      '99.2.0.192.everything.test': [rr.a('127.0.0.2')],
      '99.2.0.192.notest.test': [rr.a('127.0.0.2')],
      // listings
      '99.2.0.192.zen.test': [rr.a('127.0.0.2'), rr.a('127.0.0.4'), rr.a('127.0.0.11')],
      '7.2.0.192.zen.test': [rr.a('127.0.0.9')],
      '5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2.zen.test': [rr.a('127.0.0.3')],
      '10.2.0.192.list.dnswl.test': [rr.a('127.0.15.3')],
      '11.2.0.192.list.dnswl.test': [rr.a('127.0.0.255')],
      // errors: public resolver refused, rate limited, garbage
      '5.100.51.198.zen.test': [rr.a('127.255.255.254')],
      '6.100.51.198.zen.test': [rr.a('127.255.255.255'), rr.a('127.0.0.2')],
      '8.100.51.198.zen.test': [rr.a('198.51.100.200')],
    },
    behaviours: { '1.113.0.203.zen.test': 'TIMEOUT', '2.113.0.203.zen.test': 'SERVFAIL' },
  });
});
afterAll(() => srv.close());

test('symbols are derived from the config up front', () => {
  const c = check([ZEN, DNSWL]);
  expect(c.symbols.map((s) => `${s.name}=${s.score}`)).toEqual([
    'RBL_ZEN_SBL=4',
    'RBL_ZEN_CSS=2',
    'RBL_ZEN_XBL=4',
    'RBL_ZEN_DROP=7',
    'RBL_ZEN_PBL=2',
    'RBL_ZEN_BLOCKED=0',
    'RBL_ZEN_DNSFAIL=0',
    'RCVD_IN_DNSWL_HI=-3.5',
    'RCVD_IN_DNSWL_LOW=-0.7',
    'RBL_DNSWL_BLOCKED=0',
    'RBL_DNSWL_DNSFAIL=0',
  ]);
});

test('several return codes at once map to several symbols', async () => {
  const e = await runCheck(check([ZEN, DNSWL]), at('192.0.2.99'));
  expect(names(e)).toEqual(['RBL_ZEN_PBL', 'RBL_ZEN_SBL', 'RBL_ZEN_XBL']);
  expect(e.find((x) => x.name === 'RBL_ZEN_PBL')!.options).toEqual(['127.0.0.11']);
  expect(names(await runCheck(check([ZEN]), at('192.0.2.7')))).toEqual(['RBL_ZEN_DROP']);
});

test('IPv6 clients are looked up by reversed nibbles; IPv4-mapped ones as IPv4', async () => {
  expect(names(await runCheck(check([ZEN]), at('2001:db8:7ca6:22::45')))).toEqual(['RBL_ZEN_CSS']);
  expect(names(await runCheck(check([ZEN]), at('::ffff:192.0.2.7')))).toEqual(['RBL_ZEN_DROP']);
});

test('DNSWL gives a negative-score symbol; its 127.0.0.255 error code never counts', async () => {
  const c = check([DNSWL]);
  expect(names(await runCheck(c, at('192.0.2.10')))).toEqual(['RCVD_IN_DNSWL_HI']);
  expect(names(await runCheck(c, at('192.0.2.11')))).toEqual(['RBL_DNSWL_BLOCKED']);
});

test('127.255.255.x is never a listing: BLOCKED symbol, metric, and the list backs off', async () => {
  const c = check([ZEN]);
  const e = await runCheck(c, at('198.51.100.6')); // error code next to a listing code: the whole answer is suspect
  expect(names(e)).toEqual(['RBL_ZEN_BLOCKED', 'RBL_ZEN_SBL']);
  expect(e.find((x) => x.name === 'RBL_ZEN_BLOCKED')!.options).toEqual(['127.255.255.255']);
  expect(await metrics.registry.getSingleMetricAsString('spamgate_dnsbl_blocked_total')).toContain('zone="ZEN",reason="error_answer"} 1');
  srv.resetCounts();
  // backed off: the next client is not looked up at all
  expect(await runCheck(c, at('192.0.2.99'))).toEqual([]);
  expect(srv.totalQueries()).toBe(0);
});

test('public-resolver refusal (127.255.255.254) alone → only the 0-score BLOCKED symbol', async () => {
  expect(names(await runCheck(check([ZEN]), at('198.51.100.5')))).toEqual(['RBL_ZEN_BLOCKED']);
});

test('after the backoff the list is used again', async () => {
  const c = check([ZEN], { backoffSec: 0 });
  expect(names(await runCheck(c, at('198.51.100.5')))).toEqual(['RBL_ZEN_BLOCKED']);
  expect(names(await runCheck(c, at('192.0.2.7')))).toEqual(['RBL_ZEN_DROP']);
});

test('an answer outside 127/8 is an error, not a listing', async () => {
  expect(names(await runCheck(check([ZEN], { backoffSec: 0 }), at('198.51.100.8')))).toEqual(['RBL_ZEN_BLOCKED']);
});

test('timeout and SERVFAIL → 0-score DNSFAIL symbols; not listed → nothing', async () => {
  const c = check([ZEN]);
  expect(await runCheck(c, at('203.0.113.1'))).toEqual([{ name: 'RBL_ZEN_DNSFAIL', options: ['ETIMEOUT'] }]);
  expect(await runCheck(c, at('203.0.113.2'))).toEqual([{ name: 'RBL_ZEN_DNSFAIL', options: ['ESERVFAIL'] }]);
  expect(await runCheck(c, at('203.0.113.3'))).toEqual([]);
});

test('private and loopback clients are not looked up', async () => {
  srv.resetCounts();
  expect(await runCheck(check([ZEN]), at('10.1.2.3'))).toEqual([]);
  expect(await runCheck(check([ZEN]), at('::1'))).toEqual([]);
  expect(srv.totalQueries()).toBe(0);
});

test('RFC 5782 probes: a list that lists everything, or lacks its test point, is taken out of use', async () => {
  const everything = { name: 'EVERYTHING', zone: 'everything.test', returnCodes: { '127.0.0.2': { symbol: 'RBL_EVERYTHING', score: 5 } } };
  const notest = { name: 'NOTEST', zone: 'notest.test', returnCodes: { '127.0.0.2': { symbol: 'RBL_NOTEST', score: 5 } } };
  const c = check([ZEN, everything, notest]);
  expect(names(await runCheck(c, at('192.0.2.99')))).toEqual(['RBL_EVERYTHING', 'RBL_NOTEST', 'RBL_ZEN_PBL', 'RBL_ZEN_SBL', 'RBL_ZEN_XBL']);
  await c.probeNow();
  expect(names(await runCheck(c, at('192.0.2.99')))).toEqual(['RBL_ZEN_PBL', 'RBL_ZEN_SBL', 'RBL_ZEN_XBL']);
  const text = await metrics.registry.getSingleMetricAsString('spamgate_dnsbl_blocked_total');
  expect(text).toContain('zone="EVERYTHING",reason="probe_lists_everything"');
  expect(text).toContain('zone="NOTEST",reason="probe_test_point_not_listed"');
  // the list is fixed: the next probe puts it back
  srv.add('2.0.0.127.notest.test', rr.a('127.0.0.2'));
  await c.probeNow();
  expect(names(await runCheck(c, at('192.0.2.99')))).toContain('RBL_NOTEST');
});

test('probes run periodically from the check itself (not per message)', async () => {
  const everything = { name: 'EVERYTHING', zone: 'everything.test', returnCodes: { '127.0.0.2': { symbol: 'RBL_EVERYTHING', score: 5 } } };
  const c = check([everything], { healthIntervalSec: 3600 });
  srv.resetCounts();
  await runCheck(c, at('192.0.2.50'));
  await runCheck(c, at('192.0.2.51'));
  // one probe pair for two messages
  expect(srv.queries('1.0.0.127.everything.test')).toBe(1);
});
