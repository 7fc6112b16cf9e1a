/**
 * SPF → DKIM → ARC → DMARC → Authentication-Results through the real checks, our DNS resolver and
 * a loopback DNS server serving the keys and policies. Messages are signed here with fresh
 * RSA-2048 and ed25519 keys; tampered copies must fail.
 */
import { dmarc as mailauthDmarc } from 'mailauth';
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { makeChecks, MapFacts, names, runCheck, sessionView, testConfig, testServices, type SessionInput } from '../helpers/dns-check-harness.js';
import { spfCheck } from '../../src/checks/mail/spf.js';
import { authCheck } from '../../src/checks/data/auth.js';
import { mailauthResolver } from '../../src/checks/auth/mailauth-resolver.js';
import { AUTH_RESULTS, DKIM, DMARC, SPF, ARC } from '../../src/core/facts.js';
import { arcSeal, makeKey, message, sign, type TestKey } from '../fixtures/auth/sign.js';
import type { Check } from '../../src/core/types.js';
import type { CheckServices } from '../../src/core/services.js';

let srv: TestDnsServer;
let services: CheckServices;
let spf: Check;
let auth: Check;
let rsa: TestKey;
let ed: TestKey;
let other: TestKey;

const GOOD_IP = '192.0.2.10';
const BAD_IP = '203.0.113.66';

beforeAll(async () => {
  rsa = makeKey('rsa');
  ed = makeKey('ed25519');
  other = makeKey('rsa');
  srv = await startDnsServer({
    records: {
      'example.com': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`), rr.a('192.0.2.1')],
      '_dmarc.example.com': [rr.txt('v=DMARC1; p=reject; rua=mailto:d@example.com')],
      'rsa._domainkey.example.com': [rsa.record],
      'ed._domainkey.example.com': [ed.record],
      'strict.test': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`)],
      'bounce.strict.test': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`)],
      'sub.strict.test': [rr.a('192.0.2.2')],
      '_dmarc.strict.test': [rr.txt('v=DMARC1; p=reject; adkim=s; aspf=s')],
      'rsa._domainkey.strict.test': [rsa.record],
      'relaxed.test': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`)],
      'bounce.relaxed.test': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`)],
      'sub.relaxed.test': [rr.a('192.0.2.3')],
      '_dmarc.relaxed.test': [rr.txt('v=DMARC1; p=quarantine')],
      'rsa._domainkey.relaxed.test': [rsa.record],
      '_dmarc.monitor.test': [rr.txt('v=DMARC1; p=none')],
      'forwarder.test': [rr.txt('v=spf1 ip4:198.51.100.7 -all')],
      'arc._domainkey.forwarder.test': [other.record],
      'nodmarc.test': [rr.txt(`v=spf1 ip4:${GOOD_IP} -all`)],
    },
    behaviours: {
      'slow._domainkey.example.com': 'TIMEOUT',
      '_dmarc.dnsfail.test': 'SERVFAIL',
      'dnsfail.test': 'SERVFAIL',
    },
  });
  services = testServices(testConfig(srv.address));
  spf = makeChecks(spfCheck, services)[0]!;
  auth = makeChecks(authCheck, services)[0]!;
});
afterAll(() => srv.close());

async function scan(input: SessionInput) {
  const facts = new MapFacts();
  const session = sessionView(input);
  const emitted = [...(await runCheck(spf, session, facts)), ...(await runCheck(auth, session, facts))];
  return { emitted, syms: names(emitted), facts };
}

test('RSA-2048 signed, SPF pass, DMARC p=reject: everything passes', async () => {
  const msg = await sign(message(), [{ domain: 'example.com', selector: 'rsa', key: rsa }]);
  const { syms, facts } = await scan({ ip: GOOD_IP, helo: 'mail.example.com', mailFrom: 'alice@example.com', message: msg });
  expect(syms).toEqual(['ARC_NA', 'DMARC_POLICY_ALLOW', 'R_DKIM_ALLOW', 'R_SPF_ALLOW']);
  expect(facts.get(SPF)).toEqual({ result: 'pass', domain: 'example.com' });
  expect(facts.get(DKIM)).toEqual([expect.objectContaining({ domain: 'example.com', selector: 'rsa', result: 'pass' })]);
  expect(facts.get(DMARC)).toEqual({ result: 'pass', policy: 'reject', domain: 'example.com' });
  expect(facts.get(ARC)).toEqual({ result: 'none' });
  const ar = facts.get(AUTH_RESULTS)!;
  expect(ar.startsWith('mx.spamgate.test;')).toBe(true);
  expect(ar).toContain('spf=pass smtp.mailfrom=alice@example.com');
  expect(ar).toMatch(/dkim=pass header\.d=example\.com header\.s=rsa header\.b=\S{8}/);
  expect(ar).toContain('dmarc=pass (p=reject) header.from=example.com');
  expect(ar).toContain('arc=none');
});

test('ed25519 and RSA signatures on one message both verify', async () => {
  const msg = await sign(message(), [
    { domain: 'example.com', selector: 'rsa', key: rsa },
    { domain: 'example.com', selector: 'ed', key: ed },
  ]);
  const { emitted, facts } = await scan({ ip: BAD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: msg });
  expect(facts.get(DKIM)!.map((d) => `${d.selector}=${d.result}`).sort()).toEqual(['ed=pass', 'rsa=pass']);
  expect(emitted.find((e) => e.name === 'R_DKIM_ALLOW')!.options).toEqual(['example.com:rsa', 'example.com:ed']);
  // SPF fails, but an aligned DKIM pass is enough for DMARC (RFC 7489 §4.2).
  expect(names(emitted)).toEqual(['ARC_NA', 'DMARC_POLICY_ALLOW', 'R_DKIM_ALLOW', 'R_SPF_FAIL']);
});

test('a tampered body or header fails DKIM; DMARC then applies p=reject', async () => {
  const signed = await sign(message(), [{ domain: 'example.com', selector: 'ed', key: ed }]);
  const body = Buffer.from(signed.toString().replace('the figures are attached', 'wire the money today'));
  const header = Buffer.from(signed.toString().replace('Subject: quarterly figures', 'Subject: urgent payment'));
  for (const msg of [body, header]) {
    const { syms, facts } = await scan({ ip: BAD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: msg });
    expect(syms).toEqual(['ARC_NA', 'DMARC_POLICY_REJECT', 'R_DKIM_REJECT', 'R_SPF_FAIL']);
    expect(facts.get(DKIM)![0]!.result).toBe('fail');
    expect(facts.get(DMARC)).toEqual({ result: 'fail', policy: 'reject', domain: 'example.com' });
    expect(facts.get(AUTH_RESULTS)).toContain('dmarc=fail (p=reject)');
  }
});

test('a signature by an unrelated domain does not satisfy DMARC', async () => {
  const msg = await sign(message({ from: 'ceo@relaxed.test' }), [{ domain: 'example.com', selector: 'rsa', key: rsa }]);
  const { syms } = await scan({ ip: BAD_IP, helo: 'x.test', mailFrom: 'x@forwarder.test', message: msg });
  expect(syms).toEqual(['ARC_NA', 'DMARC_POLICY_QUARANTINE', 'R_DKIM_ALLOW', 'R_SPF_FAIL']);
});

describe('strict vs relaxed alignment (mailauth 4.x gets strict wrong; we must not)', () => {
  const cases: [string, string, string, string, string][] = [
    // from, d= domain, mail from, client ip, expected DMARC symbol
    ['a@sub.strict.test', 'strict.test', 'x@nowhere.invalid', BAD_IP, 'DMARC_POLICY_REJECT'], // adkim=s: org match is not enough
    ['a@strict.test', 'strict.test', 'x@nowhere.invalid', BAD_IP, 'DMARC_POLICY_ALLOW'], // exact match
    ['a@strict.test', 'none', 'b@bounce.strict.test', GOOD_IP, 'DMARC_POLICY_REJECT'], // aspf=s: bounce.strict.test ≠ strict.test
    ['a@strict.test', 'none', 'b@strict.test', GOOD_IP, 'DMARC_POLICY_ALLOW'],
    ['a@sub.relaxed.test', 'relaxed.test', 'x@nowhere.invalid', BAD_IP, 'DMARC_POLICY_ALLOW'], // adkim=r
    ['a@relaxed.test', 'none', 'b@bounce.relaxed.test', GOOD_IP, 'DMARC_POLICY_ALLOW'], // aspf=r
    ['a@relaxed.test', 'none', 'x@nowhere.invalid', BAD_IP, 'DMARC_POLICY_QUARANTINE'],
  ];
  test.each(cases)('From %s, d=%s, MAIL FROM %s, client %s → %s', async (from, d, mailFrom, ip, expected) => {
    const base = message({ from });
    const msg = d === 'none' ? base : await sign(base, [{ domain: d, selector: 'rsa', key: rsa }]);
    const { syms } = await scan({ ip, helo: 'x.test', mailFrom, message: msg });
    expect(syms.filter((s) => s.startsWith('DMARC'))).toEqual([expected]);
  });

  test('mailauth alone passes the strict case (the gap we close)', async () => {
    const r = await mailauthDmarc({
      headerFrom: 'a@sub.strict.test',
      spfDomains: [],
      dkimDomains: [{ domain: 'strict.test' }],
      resolver: mailauthResolver(services.dns, {}),
    });
    expect(r && r.status.result).toBe('pass');
  });
});

test('l= leaving appended content unsigned: DKIM_PARTIAL_BODY, no DKIM credit, DMARC fails', async () => {
  const signed = await sign(message({ body: 'Short signed part.\r\n' }), [{ domain: 'example.com', selector: 'rsa', key: rsa, l: 20 }]);
  const appended = Buffer.concat([signed, Buffer.from('Click http://evil.example/ to claim your prize\r\n')]);
  const { syms, facts } = await scan({ ip: BAD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: appended });
  expect(syms).toEqual(['ARC_NA', 'DKIM_PARTIAL_BODY', 'DMARC_POLICY_REJECT', 'R_SPF_FAIL']);
  expect(facts.get(DKIM)![0]).toEqual(expect.objectContaining({ result: 'policy', partialBody: true }));
  expect(facts.get(AUTH_RESULTS)).toMatch(/dkim=policy \(\d+ body bytes not covered by l=\)/);
});

test('l= covering the whole body still counts', async () => {
  const msg = await sign(message({ body: 'Short signed part.\r\n' }), [{ domain: 'example.com', selector: 'rsa', key: rsa, l: 20 }]);
  const { syms } = await scan({ ip: BAD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: msg });
  expect(syms).toContain('R_DKIM_ALLOW');
  expect(syms).toContain('DMARC_POLICY_ALLOW');
});

test('missing key → R_DKIM_PERMFAIL; key lookup timeout → R_DKIM_TEMPFAIL (score-0 symbols, no exception)', async () => {
  const nokey = await sign(message(), [{ domain: 'example.com', selector: 'gone', key: rsa }]);
  const slow = await sign(message(), [{ domain: 'example.com', selector: 'slow', key: rsa }]);
  expect((await scan({ ip: GOOD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: nokey })).syms).toContain('R_DKIM_PERMFAIL');
  const r = await scan({ ip: GOOD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: slow });
  expect(r.syms).toContain('R_DKIM_TEMPFAIL');
  expect(r.facts.get(DKIM)![0]!.result).toBe('temperror');
});

test('DMARC record SERVFAIL → DMARC_DNSFAIL; SPF SERVFAIL → R_SPF_DNSFAIL', async () => {
  const { syms } = await scan({ ip: GOOD_IP, helo: 'x.test', mailFrom: 'a@dnsfail.test', message: message({ from: 'a@dnsfail.test' }) });
  expect(syms).toEqual(['ARC_NA', 'DMARC_DNSFAIL', 'R_DKIM_NA', 'R_SPF_DNSFAIL']);
});

test('no DMARC record → DMARC_NA; p=none failure → DMARC_POLICY_SOFTFAIL; two From → DMARC_BAD_POLICY', async () => {
  expect((await scan({ ip: GOOD_IP, helo: 'x', mailFrom: 'a@nodmarc.test', message: message({ from: 'a@nodmarc.test' }) })).syms).toContain('DMARC_NA');
  expect((await scan({ ip: BAD_IP, helo: 'x', mailFrom: 'a@monitor.test', message: message({ from: 'a@monitor.test' }) })).syms).toContain(
    'DMARC_POLICY_SOFTFAIL',
  );
  const two = message({ from: 'a@example.com, b@relaxed.test' });
  expect((await scan({ ip: GOOD_IP, helo: 'x', mailFrom: 'a@example.com', message: two })).syms).toContain('DMARC_BAD_POLICY');
});

test('null sender: SPF checks the HELO identity (RFC 7208 §2.4)', async () => {
  const { syms, facts } = await scan({ ip: '198.51.100.7', helo: 'forwarder.test', mailFrom: '', message: message() });
  expect(syms).toContain('R_SPF_ALLOW');
  expect(facts.get(SPF)).toEqual({ result: 'pass', domain: 'forwarder.test' });
  expect(facts.get(AUTH_RESULTS)).toContain('spf=pass smtp.helo=forwarder.test');
});

describe('ARC', () => {
  test('an intact chain validates (ARC_ALLOW); a change after sealing breaks it (ARC_REJECT)', async () => {
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'rsa', key: rsa }]);
    const sealed = await arcSeal(signed, { domain: 'forwarder.test', selector: 'arc', key: other }, mailauthResolver(services.dns, {}));
    expect(sealed.toString()).toMatch(/^ARC-Seal: i=1;/);
    const ok = await scan({ ip: '198.51.100.7', helo: 'forwarder.test', mailFrom: 'list@forwarder.test', message: sealed });
    expect(ok.syms).toContain('ARC_ALLOW');
    expect(ok.facts.get(ARC)).toEqual({ result: 'pass' });
    const broken = Buffer.from(sealed.toString().replace('Subject: quarterly figures', 'Subject: [list] quarterly figures'));
    const bad = await scan({ ip: '198.51.100.7', helo: 'forwarder.test', mailFrom: 'list@forwarder.test', message: broken });
    expect(bad.syms).toContain('ARC_REJECT');
    expect(bad.facts.get(ARC)).toEqual({ result: 'fail' });
  });
});

test('DNS answers are cached across messages (keys and policies fetched once)', async () => {
  const msg = await sign(message(), [{ domain: 'example.com', selector: 'rsa', key: rsa }]);
  await scan({ ip: GOOD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: msg });
  srv.resetCounts();
  await scan({ ip: GOOD_IP, helo: 'x.test', mailFrom: 'alice@example.com', message: msg });
  expect(srv.totalQueries()).toBe(0);
});
