/**
 * Greylisting through the real engine on the embedded store, with an injected clock (no sleeps):
 * only verdicts in the greylist band are touched; first attempt deferred, early retry deferred,
 * retry after the delay accepted with the score kept; skips for allow-listed networks, DMARC pass
 * and good reputation; every recipient's triplet must pass.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createMemoryStores } from '../../../src/store/memory.js';
import { replyForDecision } from '../../../src/core/replies.js';
import { storeEngine, symbolsOf, type EngineHarness } from '../../helpers/redis-engine.js';
import type { Stores } from '../../../src/store/stores-api.js';

const MIN = 60_000;
const BASE = 'checks:\n  ratelimit:\n    enabled: false\n  reputation:\n    enabled: false\n';

describe('greylisting (VerdictModifier)', () => {
  let h: EngineHarness;
  afterEach(async () => h?.close());

  it('walks first attempt → early retry → retry after the delay, keeping the score', async () => {
    h = await storeEngine(createMemoryStores(), BASE);
    const tx = { ip: '192.0.2.25', from: 'a@example.org', rcpts: ['u@example.net'], score: 5 };
    const table: [string, number, string, string | undefined][] = [
      ['first attempt', 0, 'greylist', 'GREYLIST_DEFERRED'],
      ['retry after 1 min', 1 * MIN, 'greylist', 'GREYLIST_DEFERRED'],
      ['retry after 6 min', 5 * MIN, 'accept', 'GREYLIST_PASS'],
      ['next day, same triplet', 24 * 60 * MIN, 'accept', 'GREYLIST_PASS'],
    ];
    for (const [what, advance, action, note] of table) {
      h.clock.advance(advance);
      const r = await h.send(tx);
      const v = r.data!.verdict;
      expect({ what, action: v.action, score: v.score, note: note && note in symbolsOf(r) }).toEqual({ what, action, score: 5, note: true });
    }
  });

  it('answers 451 4.7.1 with a clear text', async () => {
    h = await storeEngine(createMemoryStores(), BASE);
    const r = await h.send({ ip: '192.0.2.26', score: 5 });
    const v = r.data!.verdict;
    const reply = replyForDecision({ action: 'greylist', reason: v.reason ?? '' });
    expect(reply.code).toBe(451);
    expect(reply.enhanced).toBe('4.7.1');
    expect(reply.text).toMatch(/^Greylisted, please try again later: retry in 300 seconds$/);
  });

  it('passes a retry from another address of the same /24', async () => {
    h = await storeEngine(createMemoryStores(), BASE);
    await h.send({ ip: '192.0.2.30', score: 5 });
    h.clock.advance(6 * MIN);
    expect((await h.send({ ip: '192.0.2.31', score: 5 })).data!.verdict.action).toBe('accept');
    expect((await h.send({ ip: '192.0.3.31', score: 5 })).data!.verdict.action).toBe('greylist');
  });

  it('leaves verdicts outside the greylist band alone', async () => {
    const stores = createMemoryStores();
    h = await storeEngine(stores, BASE);
    const low = await h.send({ ip: '192.0.2.40', score: 3 });
    const high = await h.send({ ip: '192.0.2.40', score: 7 });
    expect(low.data!.verdict.action).toBe('accept');
    expect(high.data!.verdict.action).toBe('tag');
    expect(Object.keys({ ...symbolsOf(low), ...symbolsOf(high) }).filter((s) => s.startsWith('GREYLIST'))).toEqual([]);
    // Nothing was recorded: a band-5 message now is a first attempt.
    expect((await h.send({ ip: '192.0.2.40', score: 5 })).data!.verdict.action).toBe('greylist');
  });

  it('needs every recipient triplet to pass', async () => {
    h = await storeEngine(createMemoryStores(), BASE);
    await h.send({ ip: '192.0.2.50', rcpts: ['a@example.net'], score: 5 });
    h.clock.advance(6 * MIN);
    const r = await h.send({ ip: '192.0.2.50', rcpts: ['a@example.net', 'b@example.net'], score: 5 });
    expect(r.data!.verdict.action).toBe('greylist');
    h.clock.advance(6 * MIN);
    expect((await h.send({ ip: '192.0.2.50', rcpts: ['a@example.net', 'b@example.net'], score: 5 })).data!.verdict.action).toBe('accept');
  });

  it('auto-allows a network + sender domain after repeated passes', async () => {
    h = await storeEngine(createMemoryStores(), BASE + '  greylist:\n    autoAllowAfter: 2\n');
    for (const rc of ['r1@example.net', 'r2@example.net']) {
      await h.send({ ip: '192.0.2.60', from: 'x@partner.example', rcpts: [rc], score: 5 });
      h.clock.advance(6 * MIN);
      await h.send({ ip: '192.0.2.60', from: 'x@partner.example', rcpts: [rc], score: 5 });
    }
    const r = await h.send({ ip: '192.0.2.61', from: 'y@partner.example', rcpts: ['new@example.net'], score: 5 });
    expect(r.data!.verdict.action).toBe('accept');
    expect(r.data!.verdict.symbols.find((s) => s.name === 'GREYLIST_PASS')?.options).toEqual(['allowed']);
  });

  it.each([
    ['an allow-listed network', BASE + '  greylist:\n    skipNetworks: ["192.0.2.0/25"]\n', {}, 'network'],
    ['DMARC-aligned mail', BASE, { 'X-Test-From': 'example.org', 'X-Test-Dmarc': 'pass' }, 'dmarc'],
  ])('skips %s', async (_what, yaml, headers, why) => {
    h = await storeEngine(createMemoryStores(), yaml);
    const r = await h.send({ ip: '192.0.2.70', score: 5, headers });
    expect(r.data!.verdict.action).toBe('accept');
    expect(r.data!.verdict.score).toBe(5);
    expect(r.data!.verdict.symbols.find((s) => s.name === 'GREYLIST_SKIPPED')?.options).toEqual([why]);
  });

  it('skips senders with good reputation', async () => {
    h = await storeEngine(createMemoryStores(), 'checks:\n  ratelimit:\n    enabled: false\n');
    for (let i = 0; i < 30; i++) await h.send({ ip: '192.0.2.80', score: 0 });
    // Score 5.x + the GOOD credit may still sit in the band: greylisting is skipped.
    const r = await h.send({ ip: '192.0.2.80', score: 7.5 });
    const v = r.data!.verdict;
    expect(v.score).toBeGreaterThanOrEqual(4);
    expect(v.score).toBeLessThan(6);
    expect(v.action).toBe('accept');
    expect(v.symbols.find((s) => s.name === 'GREYLIST_SKIPPED')?.options).toEqual(['reputation']);
  });

  it.each([
    ['open', 'accept'],
    ['closed', 'tempfail'],
  ])('store down, failMode %s → %s', async (failMode, action) => {
    const broken = createMemoryStores({ failMode: failMode as 'open' | 'closed' });
    const stores: Stores = { ...broken, greylist: { check: () => Promise.reject(new Error('down')) } };
    h = await storeEngine(stores, BASE);
    const r = await h.send({ ip: '192.0.2.90', score: 5 });
    expect(r.data!.verdict.action).toBe(action);
    expect('GREYLIST_UNAVAILABLE' in symbolsOf(r)).toBe(true);
  });
});
