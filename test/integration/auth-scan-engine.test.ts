/**
 * The auth stack through the real engine, as `spamgate scan` drives it (scanMessage + scanJson):
 * the "auth" JSON section, the Authentication-Results header the engine prepends, and the whole
 * RFC 7208 suite given as --ip/--helo/--from with a tiny message (HELO checks and null sender
 * included), against a loopback DNS server.
 */
import path from 'node:path';
import { buildEngine } from '../../src/app/build-engine.js';
import { scanMessage } from '../../src/app/scan-message.js';
import { scanJson } from '../../src/cli/scan.js';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log.js';
import { spfCheck } from '../../src/checks/mail/spf.js';
import { authCheck } from '../../src/checks/data/auth.js';
import { heloCheck } from '../../src/checks/helo/helo.js';
import { senderDomainCheck } from '../../src/checks/mail/sender-domain.js';
import type { Engine } from '../../src/core/engine.js';
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { loadSpfSuite } from '../helpers/spf-suite.js';
import { SPF_KNOWN_GAPS } from '../fixtures/auth/spf/known-gaps.js';
import { makeKey, message, sign } from '../fixtures/auth/sign.js';
import type { CheckFactory } from '../../src/core/services.js';

const FACTORIES: CheckFactory[] = [spfCheck, authCheck, heloCheck, senderDomainCheck];

async function engineFor(dnsAddress: string): Promise<Engine> {
  const config = configSchema.parse({ hostname: 'mx.spamgate.test', dns: { servers: [dnsAddress], timeoutMs: 200 } });
  return buildEngine({ config, file: 'test.yaml', baseDir: process.cwd() }, { log: silentLogger, metrics: createMetrics(), factories: FACTORIES });
}

const TINY = Buffer.from('Subject: t\r\n\r\nx\r\n');

describe('"auth" JSON and Authentication-Results', () => {
  let srv: TestDnsServer;
  let engine: Engine;
  const key = makeKey('rsa');
  beforeAll(async () => {
    srv = await startDnsServer({
      records: {
        'example.com': [rr.txt('v=spf1 ip4:192.0.2.10 -all'), rr.mx(10, 'mx.example.com')],
        '_dmarc.example.com': [rr.txt('v=DMARC1; p=quarantine')],
        'sel._domainkey.example.com': [key.record],
      },
    });
    engine = await engineFor(srv.address);
  });
  afterAll(async () => {
    await engine.close();
    await srv.close();
  });

  test('scan --json gains the auth section with the issue-4 shape', async () => {
    const msg = await sign(message(), [{ domain: 'example.com', selector: 'sel', key }]);
    const r = await scanMessage(engine, msg, { ip: '192.0.2.10', helo: 'mail.example.com', from: 'alice@example.com' });
    const json = scanJson(r) as { auth: unknown; symbols: Record<string, unknown> };
    expect(json.auth).toEqual({
      spf: { result: 'pass', domain: 'example.com' },
      dkim: [{ domain: 'example.com', selector: 'sel', result: 'pass' }],
      dmarc: { result: 'pass', policy: 'quarantine', domain: 'example.com' },
      arc: { result: 'none' },
    });
    expect(Object.keys(json.symbols)).toEqual(expect.arrayContaining(['R_SPF_ALLOW', 'R_DKIM_ALLOW', 'DMARC_POLICY_ALLOW']));
  });

  test('the engine prepends our Authentication-Results first and drops forged ones claiming our id', async () => {
    const forged = Buffer.concat([Buffer.from('Authentication-Results: mx.spamgate.test; dkim=pass header.d=bank.test\r\n'), message()]);
    const s = engine.open('scan');
    try {
      await s.connect({ ip: '203.0.113.5', port: 1, tls: false });
      await s.helo('x.example.org');
      await s.mail('alice@example.com', {});
      await s.rcpt('bob@example.net');
      const d = await s.data(forged);
      expect(d.prependHeaders[0]).toMatch(/^Authentication-Results: mx\.spamgate\.test;\r\n\tspf=fail smtp\.mailfrom=alice@example\.com/);
      expect(d.removeHeader('authentication-results', ' mx.spamgate.test; dkim=pass header.d=bank.test')).toBe(true);
      expect(d.removeHeader('authentication-results', ' other.example; dkim=pass')).toBe(false);
    } finally {
      s.close();
    }
  });
});

describe('RFC 7208 suite through the engine (scan --ip/--helo/--from with a tiny message)', () => {
  const scenarios = loadSpfSuite(path.resolve('test/fixtures/auth/spf/rfc7208-tests.yml'));
  const tally = { pass: 0, gap: 0 };
  afterAll(() => process.stderr.write(`RFC 7208 suite via engine: ${tally.pass} as specified, ${tally.gap} known mailauth gaps\n`));
  for (const sc of scenarios) {
    describe(sc.description, () => {
      let srv: TestDnsServer;
      let engine: Engine;
      beforeAll(async () => {
        srv = await startDnsServer({ records: sc.records, behaviours: sc.behaviours });
        engine = await engineFor(srv.address);
      });
      afterAll(async () => {
        await engine.close();
        await srv.close();
      });
      test.each(sc.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
        const r = await scanMessage(engine, TINY, { ip: c.host, helo: c.helo, from: c.mailfrom, rcpts: ['postmaster@example.net'] });
        const spf = (scanJson(r) as { auth?: { spf?: { result: string } } }).auth?.spf?.result;
        const gap = SPF_KNOWN_GAPS[c.id];
        if (gap) {
          tally.gap++;
          expect(spf).toBe(gap.actual);
        } else {
          tally.pass++;
          expect(c.result).toContain(spf);
        }
      });
    });
  }
});
