/**
 * HELO checks, FCrDNS and sender-domain existence against a loopback DNS server.
 */
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { makeChecks, MapFacts, names, runCheck, sessionView, testConfig, testServices } from '../helpers/dns-check-harness.js';
import { heloCheck } from '../../src/checks/helo/helo.js';
import { fcrdnsCheck, RDNS } from '../../src/checks/connect/fcrdns.js';
import { senderDomainCheck } from '../../src/checks/mail/sender-domain.js';
import type { Check } from '../../src/core/types.js';

let srv: TestDnsServer;
let helo: Check;
let fcrdns: Check;
let sender: Check;

beforeAll(async () => {
  srv = await startDnsServer({
    records: {
      'mail.good.test': [rr.a('192.0.2.20'), rr.aaaa('2001:db8::20')],
      'mail.other.test': [rr.a('192.0.2.99')],
      'v6only.test': [rr.aaaa('2001:db8::99')],
      'empty.test': [rr.mx(10, 'mx.empty.test')],
      // reverse DNS
      '20.2.0.192.in-addr.arpa': [rr.ptr('mail.good.test')],
      '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': [rr.ptr('mail.good.test')],
      '21.2.0.192.in-addr.arpa': [rr.ptr('forged.good.test'), rr.ptr('mail.other.test')],
      // sender domains
      'sender.test': [rr.mx(10, 'mx.sender.test')],
      'implicit.test': [rr.a('192.0.2.30')],
      'nomail.test': [rr.txt('v=spf1 -all')],
      'nullmx.test': [rr.mx(0, '')],
    },
    behaviours: {
      'broken.test': 'SERVFAIL',
      '22.2.0.192.in-addr.arpa': 'TIMEOUT',
      'slow.test': 'TIMEOUT',
    },
  });
  const services = testServices(testConfig(srv.address));
  helo = makeChecks(heloCheck, services)[0]!;
  fcrdns = makeChecks(fcrdnsCheck, services)[0]!;
  sender = makeChecks(senderDomainCheck, services)[0]!;
});
afterAll(() => srv.close());

describe('helo', () => {
  const cases: [string, string, string[]][] = [
    ['mail.good.test', '192.0.2.20', ['HELO_FCONFIRMED']],
    ['MAIL.GOOD.TEST.', '192.0.2.20', ['HELO_FCONFIRMED']],
    ['mail.good.test', '2001:db8:0::20', ['HELO_FCONFIRMED']],
    ['mail.other.test', '192.0.2.20', ['HELO_NOT_FCONFIRMED']],
    ['v6only.test', '192.0.2.20', ['HELO_NOT_FCONFIRMED']],
    ['nothere.test', '192.0.2.20', ['HELO_NORES']],
    ['empty.test', '192.0.2.20', ['HELO_NORES']],
    ['broken.test', '192.0.2.20', ['HELO_DNSFAIL']],
    ['[192.0.2.20]', '192.0.2.20', []],
    ['[IPv6:2001:db8::20]', '2001:db8:0:0::20', []],
    ['[192.0.2.21]', '192.0.2.20', ['HELO_IP_MISMATCH']],
    ['192.0.2.20', '192.0.2.20', ['HELO_BARE_IP']],
    ['192.0.2.21', '192.0.2.20', ['HELO_BARE_IP', 'HELO_IP_MISMATCH']],
    ['OEMCOMPUTER', '192.0.2.20', ['HELO_NOT_FQDN']],
    ['localhost', '192.0.2.20', ['HELO_NOT_FQDN']],
    ["JUMPIN' JUPITER", '192.0.2.20', ['HELO_BAD_SYNTAX']],
    ['-bad.test', '192.0.2.20', ['HELO_BAD_SYNTAX']],
    ['[300.1.1.1]', '192.0.2.20', ['HELO_BAD_SYNTAX']],
    ['', '192.0.2.20', ['HELO_BAD_SYNTAX']],
  ];
  test.each(cases)('HELO %j from %s → %j', async (name, ip, expected) => {
    expect(names(await runCheck(helo, sessionView({ ip, helo: name })))).toEqual(expected);
  });
});

describe('fcrdns', () => {
  test('PTR → A leads back to the client: FCRDNS_OK and the rdns fact', async () => {
    const facts = new MapFacts();
    expect(names(await runCheck(fcrdns, sessionView({ ip: '192.0.2.20' }), facts))).toEqual(['FCRDNS_OK']);
    expect(facts.get(RDNS)).toEqual({ hostname: 'mail.good.test', ptr: ['mail.good.test'] });
  });
  test('IPv6 PTR by nibbles → AAAA', async () => {
    expect(names(await runCheck(fcrdns, sessionView({ ip: '2001:db8::20' })))).toEqual(['FCRDNS_OK']);
  });
  test('PTR names that do not lead back → FCRDNS_FAIL', async () => {
    expect(names(await runCheck(fcrdns, sessionView({ ip: '192.0.2.21' })))).toEqual(['FCRDNS_FAIL']);
  });
  test('no PTR → RDNS_NONE; timeout → RDNS_DNSFAIL', async () => {
    expect(names(await runCheck(fcrdns, sessionView({ ip: '192.0.2.23' })))).toEqual(['RDNS_NONE']);
    expect(names(await runCheck(fcrdns, sessionView({ ip: '192.0.2.22' })))).toEqual(['RDNS_DNSFAIL']);
  });
});

describe('sender_domain', () => {
  const cases: [string, string[]][] = [
    ['a@sender.test', []],
    ['a@implicit.test', []],
    ['a@nxdomain.test', ['SENDER_DOMAIN_NXDOMAIN']],
    ['a@nomail.test', ['SENDER_DOMAIN_NO_MAIL']],
    ['a@nullmx.test', ['SENDER_DOMAIN_NULL_MX']],
    ['a@broken.test', ['SENDER_DOMAIN_DNSFAIL']],
    ['a@slow.test', ['SENDER_DOMAIN_DNSFAIL']],
    ['', []],
    ['a@[192.0.2.1]', []],
  ];
  test.each(cases)('MAIL FROM %j → %j', async (from, expected) => {
    expect(names(await runCheck(sender, sessionView({ ip: '192.0.2.20', mailFrom: from })))).toEqual(expected);
  });
});
