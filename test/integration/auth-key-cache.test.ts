/**
 * The DKIM/ARC key-parse cache (src/checks/auth/mailauth-key-cache.ts) through the real `auth`
 * check, our DNS resolver and a loopback DNS server: signatures made here with fresh keys
 * (node:crypto) and mailauth's signer. The key records have TTL 0, so our DNS cache keeps none of
 * them and every verification must ask the DNS server: what the cache keeps is only the parse.
 */
// Only the key cache and modules that do not load mailauth are imported statically: jest runs a
// CommonJS dependency (mailauth) when it links the ES module graph, before any module body, so
// everything that reaches mailauth is imported in beforeAll, after the cache is installed. (Node
// itself evaluates imports in source order; src/checks/auth/mailauth.ts relies on that.)
import { clearKeyCache, keyCacheStats, withKeyCache } from '../../src/checks/auth/mailauth-key-cache.js';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { makeChecks, MapFacts, names, runCheck, sessionView, testConfig, testServices } from '../helpers/dns-check-harness.js';
import { mailauthResolver } from '../../src/checks/auth/mailauth-resolver.js';
import { DKIM } from '../../src/core/facts.js';
import type { TestKey } from '../fixtures/auth/sign.js';
import type { Check } from '../../src/core/types.js';
import type { CheckServices } from '../../src/core/services.js';

type Mailauth = typeof import('mailauth');
type Fixture = typeof import('../fixtures/auth/sign.js');
let mailauth: Mailauth;
let message: Fixture['message'];
const KEY = 'sel._domainkey.example.com';
let srv: TestDnsServer;
let services: CheckServices;
let auth: Check;
let keyA: TestKey;
let keyB: TestKey;
let makeKey: Fixture['makeKey'];

// signTime given: without it mailauth 4.13.3 computes t= twice (Math.round(Date.now()/1000))
// around the signing, and a half-second boundary between them makes a bad signature.
async function sign(msg: Buffer, key: TestKey, selector = 'sel', domain = 'example.com'): Promise<Buffer> {
  const r = await mailauth.dkimSign(msg, {
    canonicalization: 'relaxed/relaxed',
    signTime: new Date(),
    signatureData: [{ signingDomain: domain, selector, privateKey: key.privatePem, algorithm: key.kind === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256' }],
  } as never);
  if (r.errors.length) throw r.errors[0];
  return Buffer.concat([Buffer.from(r.signatures), msg]);
}

const txt = (k: TestKey) => rr.txt(k.record.data as string, 0);

async function dkim(msg: Buffer) {
  const facts = new MapFacts();
  const emitted = await runCheck(auth, sessionView({ ip: '203.0.113.9', helo: 'x.test', mailFrom: 'alice@example.com', message: msg }), facts);
  return { syms: names(emitted), results: facts.get(DKIM)!.map((d) => d.result) };
}

beforeAll(async () => {
  const [{ authCheck }, fixture] = await Promise.all([import('../../src/checks/data/auth.js'), import('../fixtures/auth/sign.js')]);
  mailauth = await import('mailauth');
  message = fixture.message;
  makeKey = fixture.makeKey;
  keyA = makeKey('rsa');
  keyB = makeKey('rsa');
  srv = await startDnsServer({
    records: { [KEY]: [txt(keyA)], '_dmarc.example.com': [rr.txt('v=DMARC1; p=reject')] },
    behaviours: { 'slow._domainkey.example.com': 'TIMEOUT' },
  });
  services = testServices(testConfig(srv.address));
  auth = makeChecks(authCheck, services)[0]!;
});
afterAll(() => srv.close());
beforeEach(() => {
  clearKeyCache();
  srv.set(KEY, txt(keyA));
});

test('the cache is installed (the auth check loaded mailauth after it)', () => {
  expect(keyCacheStats()).toEqual(expect.objectContaining({ active: true }));
});

test('a signed message verifies from the cached parse, and DNS is still asked every time', async () => {
  const msg = await sign(message(), keyA);
  const s0 = keyCacheStats();
  const q0 = srv.queries(KEY, 'TXT');
  for (let i = 0; i < 3; i++) expect((await dkim(msg)).syms).toContain('R_DKIM_ALLOW');
  const s1 = keyCacheStats();
  expect(s1.misses - s0.misses).toBe(1);
  expect(s1.hits - s0.hits).toBe(2);
  expect(srv.queries(KEY, 'TXT') - q0).toBe(3);
});

test('ed25519 (RFC 8463) keys are cached and verify too', async () => {
  const ed = makeKey('ed25519');
  srv.set('ed._domainkey.example.com', rr.txt(ed.record.data as string, 0));
  const msg = await sign(message(), ed, 'ed');
  const h0 = keyCacheStats().hits;
  for (let i = 0; i < 2; i++) expect((await dkim(msg)).results).toEqual(['pass']);
  expect(keyCacheStats().hits - h0).toBe(1);
  const tampered = Buffer.from(msg.toString().replace('Subject: quarterly figures', 'Subject: urgent'));
  expect((await dkim(tampered)).results).toEqual(['fail']);
});

test('key rotation: once DNS has the new key, the new signature passes and the old one fails', async () => {
  const oldSigned = await sign(message(), keyA);
  const newSigned = await sign(message(), keyB);
  expect((await dkim(oldSigned)).results).toEqual(['pass']); // cached: key A
  expect((await dkim(newSigned)).results).toEqual(['fail']);
  srv.set(KEY, txt(keyB));
  expect((await dkim(newSigned)).results).toEqual(['pass']);
  expect((await dkim(oldSigned)).results).toEqual(['fail']);
  expect((await dkim(oldSigned)).syms).toContain('R_DKIM_REJECT');
});

test('revocation: an empty p= (RFC 6376 §3.6.1) fails at once although the key was cached', async () => {
  const msg = await sign(message(), keyA);
  expect((await dkim(msg)).results).toEqual(['pass']);
  srv.set(KEY, rr.txt('v=DKIM1; k=rsa; p=', 0));
  const r = await dkim(msg);
  expect(r.results).toEqual(['permerror']);
  expect(r.syms).toContain('R_DKIM_PERMFAIL');
  srv.set(KEY, txt(keyA));
  expect((await dkim(msg)).results).toEqual(['pass']);
});

describe('same result with and without the cache', () => {
  const pub = (k: TestKey) => /p=(\S+)$/.exec(k.record.data as string)![1]!;
  const short = () => makeKey('rsa', 1024);
  // Records mailauth refuses or accepts in various ways; the cache must not change any outcome.
  const records: [string, () => string][] = [
    ['valid', () => `v=DKIM1; k=rsa; p=${pub(keyA)}`],
    ['empty p= (revoked)', () => 'v=DKIM1; k=rsa; p='],
    ['no p= tag', () => 'v=DKIM1; k=rsa'],
    ['not base64', () => 'v=DKIM1; k=rsa; p=@@not*base64@@'],
    ['truncated key', () => `v=DKIM1; k=rsa; p=${pub(keyA).slice(0, 120)}`],
    ['other key', () => `v=DKIM1; k=rsa; p=${pub(keyB)}`],
    ['unknown version', () => `v=DKIM2; k=rsa; p=${pub(keyA)}`],
    ['k= does not match the key', () => `v=DKIM1; k=ed25519; p=${pub(keyA)}`],
    ['short key (1024 < minBitLength 2048)', () => `v=DKIM1; k=rsa; p=${pub(short())}`],
    ['garbage', () => 'hello world'],
  ];
  test.each(records)('%s', async (_name, record) => {
    const msg = await sign(message(), keyA);
    // The good key is parsed and cached first: a record changed since must still be read afresh.
    const primed = await mailauth.dkimVerify(msg, { minBitLength: 2048, resolver: withKeyCache(mailauthResolver(services.dns, {})) });
    expect(primed.results[0]!.status.result).toBe('pass');
    srv.set(KEY, rr.txt(record(), 0));
    const plain = mailauthResolver(services.dns, {});
    const opts = { minBitLength: 2048 };
    const without = await mailauth.dkimVerify(msg, { ...opts, resolver: plain });
    // Twice through the cache: a refused record is never remembered as a good key.
    for (let i = 0; i < 2; i++) {
      const withCache = await mailauth.dkimVerify(msg, { ...opts, resolver: withKeyCache(mailauthResolver(services.dns, {})) });
      expect(withCache.results.map((r) => ({ ...r, id: undefined }))).toEqual(without.results.map((r) => ({ ...r, id: undefined })));
    }
  });

  test('a DNS failure is a temporary error each time, and is not cached', async () => {
    const msg = await sign(message(), keyA, 'slow');
    const without = await mailauth.dkimVerify(msg, { resolver: mailauthResolver(services.dns, {}) });
    const withCache = await mailauth.dkimVerify(msg, { resolver: withKeyCache(mailauthResolver(services.dns, {})) });
    expect(without.results[0]!.status.result).toBe('temperror');
    expect(withCache.results[0]!.status).toEqual(without.results[0]!.status);
    expect(keyCacheStats().size).toBe(0);
  });

  test('mailauth still reports the key as PEM text', async () => {
    const msg = await sign(message(), keyA);
    const without = await mailauth.dkimVerify(msg, { resolver: mailauthResolver(services.dns, {}) });
    const withCache = await mailauth.dkimVerify(msg, { resolver: withKeyCache(mailauthResolver(services.dns, {})) });
    const pem = (r: typeof without) => (r.results[0] as { publicKey?: string }).publicKey;
    expect(pem(without)).toMatch(/^-----BEGIN RSA PUBLIC KEY-----/);
    expect(pem(withCache)).toBe(pem(without));
  });
});

test('an ARC chain validates through the cache, twice', async () => {
  const sealer = makeKey('rsa');
  srv.set('arc._domainkey.forwarder.test', rr.txt(sealer.record.data as string, 0));
  const signed = await sign(message(), keyA);
  const r = await mailauth.authenticate(signed, {
    resolver: mailauthResolver(services.dns, {}),
    ip: '198.51.100.7',
    helo: 'forwarder.test',
    sender: 'list@forwarder.test',
    mta: 'forwarder.test',
    disableBimi: true,
    seal: { signingDomain: 'forwarder.test', selector: 'arc', privateKey: sealer.privatePem, signTime: new Date() },
  } as never);
  const arcHeaders = r.headers
    .split(/\r\n(?=\S)/)
    .filter((h: string) => /^ARC-/i.test(h))
    .join('\r\n');
  const sealed = Buffer.concat([Buffer.from(`${arcHeaders}\r\n`), signed]);
  const h0 = keyCacheStats().hits;
  for (let i = 0; i < 2; i++) expect((await dkim(sealed)).syms).toContain('ARC_ALLOW');
  expect(keyCacheStats().hits).toBeGreaterThan(h0);
  const tampered = Buffer.from(sealed.toString().replace('the figures are attached', 'the figures are wrong'));
  expect((await dkim(tampered)).syms).toContain('ARC_REJECT');
});

test('bounded: past 1000 keys the least recently used is dropped', async () => {
  // Straight through mailauth's (patched) getPublicKey with an in-memory answer: 1001 distinct keys.
  const tools = createRequire(import.meta.url)('mailauth/lib/tools') as {
    getPublicKey: (t: string, n: string, m: number, r: (n: string, t: string) => Promise<string[][]>) => Promise<{ publicKey: unknown }>;
  };
  const recs = Array.from({ length: 1001 }, () => {
    const raw = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64');
    return `v=DKIM1; k=ed25519; p=${raw}`;
  });
  const get = (i: number) => tools.getPublicKey('DKIM', KEY, 1024, withKeyCache(async () => [[recs[i]!]]));
  for (let i = 0; i < 1000; i++) await get(i);
  await get(0); // 0 is now the most recently used; 1 the least
  const s0 = keyCacheStats();
  expect(s0.size).toBe(1000);
  await get(1000); // evicts 1
  expect(keyCacheStats().size).toBe(1000);
  await get(0);
  expect(keyCacheStats().hits - s0.hits).toBe(1);
  await get(1);
  expect(keyCacheStats().misses - s0.misses).toBe(2);
});
