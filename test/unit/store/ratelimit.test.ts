/**
 * Rate limits through the real engine on the embedded store, with an injected clock: connection
 * rate per IP and per /24 (421 + close), message rate per sender, recipient and recipient domain
 * (451 4.7.0), per-domain overrides, the authenticated-login bucket, refill over time.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createMemoryStores } from '../../../src/store/memory.js';
import { rcptBuckets, mailBuckets } from '../../../src/ratelimit/buckets.js';
import { configSchema } from '../../../src/config/schema.js';
import { storeEngine, type EngineHarness } from '../../helpers/redis-engine.js';
import type { SessionView } from '../../../src/core/types.js';
import type { Stores } from '../../../src/store/stores-api.js';

const BASE = 'checks:\n  reputation:\n    enabled: false\n  greylist:\n    enabled: false\n  ratelimit:\n';

describe('rate limits', () => {
  let h: EngineHarness;
  afterEach(async () => h?.close());

  it('limits connections per IP with 421 4.7.0 and close, refilling over time', async () => {
    h = await storeEngine(createMemoryStores(), BASE + '    ip: { perMinute: 6, burst: 2 }\n');
    const seq: [number, string][] = [
      [0, 'continue'],
      [0, 'continue'],
      [0, 'tempfail'],
      [5_000, 'tempfail'],
      [5_000, 'continue'], // 10 s at 6/min = 1 token
      [0, 'tempfail'],
    ];
    for (const [ms, action] of seq) {
      h.clock.advance(ms);
      const r = await h.send({ ip: '192.0.2.1' });
      expect(r.connect.action).toBe(action);
      if (r.connect.action === 'tempfail') {
        expect(r.connect.reply).toMatchObject({ code: 421, enhanced: '4.7.0', close: true });
        expect(r.connect.reply!.text).toMatch(/Too many connections from your address/);
      }
    }
    // Another address is not affected.
    expect((await h.send({ ip: '192.0.2.2' })).connect.action).toBe('continue');
  });

  it('never limits loopback clients (skipNetworks default)', async () => {
    h = await storeEngine(createMemoryStores(), BASE + '    ip: { perMinute: 1, burst: 1 }\n');
    for (let i = 0; i < 3; i++) expect((await h.send({ ip: '127.0.0.1' })).connect.action).toBe('continue');
    expect((await h.send({ ip: '192.0.2.9' })).connect.action).toBe('continue');
    expect((await h.send({ ip: '192.0.2.9' })).connect.action).toBe('tempfail');
  });

  it('limits connections per /24 across rotating addresses', async () => {
    h = await storeEngine(createMemoryStores(), BASE + '    net: { perMinute: 1, burst: 3 }\n');
    const actions = [];
    for (let i = 1; i <= 4; i++) actions.push((await h.send({ ip: `198.51.100.${i}` })).connect.action);
    expect(actions).toEqual(['continue', 'continue', 'continue', 'tempfail']);
  });

  it('limits messages per sender with 451 4.7.0 at MAIL FROM, not the null sender', async () => {
    h = await storeEngine(createMemoryStores(), BASE + '    sender: { perMinute: 1, burst: 2 }\n');
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await h.send({ ip: `192.0.2.${10 + i}`, from: 'bulk@example.org' })).mail);
    expect(got.map((m) => m!.action)).toEqual(['continue', 'continue', 'tempfail']);
    expect(got[2]).toMatchObject({ reply: { code: 451, enhanced: '4.7.0' } });
    for (let i = 0; i < 3; i++) expect((await h.send({ ip: '192.0.2.20', from: '' })).mail!.action).toBe('continue');
  });

  it('limits per recipient and per recipient domain, with per-domain overrides', async () => {
    h = await storeEngine(
      createMemoryStores(),
      BASE +
        '    rcpt: { perMinute: 60, burst: 100 }\n    rcpt_domain: { perMinute: 60, burst: 100 }\n' +
        '    domains:\n      small.example:\n        rcpt: { perMinute: 1, burst: 1 }\n        rcpt_domain: { perMinute: 1, burst: 2 }\n',
    );
    const r1 = await h.send({ ip: '192.0.2.30', rcpts: ['a@small.example', 'a@small.example', 'b@small.example', 'c@small.example', 'a@big.example'] });
    expect(r1.rcpts.map((r) => r.action)).toEqual(['continue', 'tempfail', 'continue', 'tempfail', 'continue']);
    expect(r1.rcpts[1]).toMatchObject({ reply: { code: 451, enhanced: '4.7.0' } });
    expect((r1.rcpts[1] as { reply: { text: string } }).reply.text).toMatch(/this recipient,/);
    expect((r1.rcpts[3] as { reply: { text: string } }).reply.text).toMatch(/this recipient domain/);
    // The message still went to the accepted recipients.
    expect(r1.data!.verdict.action).toBe('accept');
  });

  it('uses the authenticated-login bucket only when a login is known', () => {
    const cfg = configSchema.parse({}).checks.ratelimit;
    const s = { envelope: { mailFrom: 'A@Example.org', rcptTo: [] } } as unknown as SessionView;
    expect(mailBuckets(cfg, s, undefined).map((b) => b.key)).toEqual(['sender:a@example.org']);
    expect(mailBuckets(cfg, s, 'alice').map((b) => b.key)).toEqual(['sender:a@example.org', 'auth:alice']);
    expect(rcptBuckets({ ...cfg, rcpt: { perMinute: 0, burst: 1 } }, 'u@d.example').map((b) => b.kind)).toEqual(['rcpt_domain']);
  });

  it.each([
    ['open', 'continue'],
    ['closed', 'tempfail'],
  ])('store down, failMode %s → connect %s', async (failMode, action) => {
    const broken = createMemoryStores({ failMode: failMode as 'open' | 'closed' });
    const stores: Stores = { ...broken, ratelimit: { take: () => Promise.reject(new Error('down')), reset: async () => {} } };
    h = await storeEngine(stores, BASE + '    enabled: true\n');
    const r = await h.send({ ip: '192.0.2.40' });
    expect(r.connect.action).toBe(action);
    if (action === 'continue') expect(r.data!.verdict.symbols.map((s) => s.name)).toEqual(expect.arrayContaining(['RATELIMIT_UNAVAILABLE', 'RATELIMIT_MAIL_UNAVAILABLE', 'RATELIMIT_RCPT_UNAVAILABLE']));
  });
});
