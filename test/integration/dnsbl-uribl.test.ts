/**
 * URI blocklists on the links of a message against a loopback DNS server: registrable domains
 * (public-suffix aware), de-duplication, the per-message cap, IP-literal links, bit-mask lists, and
 * error codes (127.0.1.255, 127.255.255.x) that never count.
 */
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { makeChecks, names, runCheck, sessionView, testConfig, testServices } from '../helpers/dns-check-harness.js';
import { uriblCheck } from '../../src/checks/data/uribl.js';
import type { Check } from '../../src/core/types.js';

const DBL = {
  name: 'DBL',
  zone: 'dbl.test',
  ipv4: false,
  ipv6: false,
  returnCodes: {
    '127.0.1.2': { symbol: 'DBL_SPAM', score: 6.5 },
    '127.0.1.4': { symbol: 'DBL_PHISH', score: 7.5 },
    '127.0.1.5': { symbol: 'DBL_MALWARE', score: 7.5 },
    '127.0.1.102': { symbol: 'DBL_ABUSE', score: 3.5 },
  },
};
const SURBL = {
  name: 'SURBL',
  zone: 'multi.surbl.test',
  bitmask: { '8': { symbol: 'PH_SURBL_MULTI', score: 7.5 }, '64': { symbol: 'ABUSE_SURBL', score: 5 } },
};

let srv: TestDnsServer;
const mail = (body: string) =>
  Buffer.from(`From: a@sender.test\r\nTo: b@rcpt.test\r\nSubject: links\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`);
function check(lists: unknown[], over: Record<string, unknown> = {}): Check {
  return makeChecks(uriblCheck, testServices(testConfig(srv.address, { checks: { uribl: { lists, ...over } } })))[0]!;
}
const run = (c: Check, body: string) => runCheck(c, sessionView({ ip: '192.0.2.1', message: mail(body), id: `u-${Math.random()}` }));

beforeAll(async () => {
  srv = await startDnsServer({
    records: {
      'spammy.co.uk.dbl.test': [rr.a('127.0.1.2')],
      'phish.example.dbl.test': [rr.a('127.0.1.4')],
      'refused.example.dbl.test': [rr.a('127.255.255.254')],
      'spammy.co.uk.multi.surbl.test': [rr.a('127.0.0.72')], // 64 + 8
      '9.113.0.203.multi.surbl.test': [rr.a('127.0.0.8')],
      'blocked.example.multi.surbl.test': [rr.a('127.0.0.1')], // bit 1: refused
    },
  });
});
afterAll(() => srv.close());

test('links are looked up by registrable domain (co.uk is a public suffix)', async () => {
  srv.resetCounts();
  const e = await run(check([DBL]), 'see http://www.spammy.co.uk/a and https://cdn.spammy.co.uk/b?x=1 and http://fine.example.org/');
  expect(e).toEqual([{ name: 'DBL_SPAM', options: ['spammy.co.uk'] }]);
  expect(srv.queries('spammy.co.uk.dbl.test')).toBe(1); // de-duplicated
  expect(srv.queries('www.spammy.co.uk.dbl.test')).toBe(0);
});

test('bit-mask lists map each bit; IP-literal links are asked reversed where the list takes IPs', async () => {
  const e = await run(check([DBL, SURBL]), 'http://spammy.co.uk/ http://203.0.113.9/login http://phish.example/');
  expect(names(e)).toEqual(['ABUSE_SURBL', 'DBL_PHISH', 'DBL_SPAM', 'PH_SURBL_MULTI', 'PH_SURBL_MULTI']);
  expect(e.filter((x) => x.name === 'PH_SURBL_MULTI').map((x) => x.options[0]).sort()).toEqual(['203.0.113.9', 'spammy.co.uk']);
});

test('the per-message cap bounds the lookups', async () => {
  srv.resetCounts();
  const body = Array.from({ length: 30 }, (_, i) => `http://www.site${i}.net/`).join(' ') + ' http://spammy.co.uk/';
  expect(await run(check([DBL], { maxDomains: 5 }), body)).toEqual([]);
  expect(srv.totalQueries()).toBe(5);
});

test('error answers never count: BLOCKED symbol and backoff; 127.0.1.255 is ignored', async () => {
  const c = check([DBL, SURBL]);
  expect(names(await run(c, 'http://refused.example/ http://blocked.example/'))).toEqual(['URIBL_DBL_BLOCKED', 'URIBL_SURBL_BLOCKED']);
  srv.resetCounts();
  expect(await run(c, 'http://spammy.co.uk/')).toEqual([]); // both lists backed off
  expect(srv.totalQueries()).toBe(0);
  srv.add('ipquery.example.dbl.test', rr.a('127.0.1.255'));
  expect(await run(check([DBL]), 'http://ipquery.example/ http://spammy.co.uk/')).toEqual([{ name: 'DBL_SPAM', options: ['spammy.co.uk'] }]);
});

test('timeout → 0-score DNSFAIL symbol', async () => {
  srv.behave('slow.example.dbl.test', 'TIMEOUT');
  expect(names(await run(check([DBL]), 'http://slow.example/'))).toEqual(['URIBL_DBL_DNSFAIL']);
});
