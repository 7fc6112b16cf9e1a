/**
 * Reputation end to end through the real engine on the embedded store, with an injected clock:
 * new senders are neutral, clean senders earn credit with confidence growing with volume, spam
 * sources and snowshoe networks are seen, evidence decays, and the learner ignores its own symbols.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createMemoryStores } from '../../../src/store/memory.js';
import { judge, addSample, decayed } from '../../../src/reputation/math.js';
import { sampleOf } from '../../../src/reputation/observer.js';
import { dkimKeys } from '../../../src/reputation/keys.js';
import { EMPTY_REPUTATION } from '../../../src/store/stores-api.js';
import { DKIM, DMARC } from '../../../src/core/facts.js';
import { LayeredFacts } from '../../../src/core/facts-map.js';
import type { Verdict } from '../../../src/core/types.js';
import { storeEngine, symbolsOf, type EngineHarness } from '../../helpers/redis-engine.js';

const HOUR = 3_600_000;
const J = { confidenceVolume: 20, minVolume: 3, minBadness: 0.2 };
// No rate limits in these tests (they have their own file).
const NO_RL = 'checks:\n  ratelimit:\n    enabled: false\n';

describe('reputation math', () => {
  it.each([
    // spam, ham, total → verdict, weight
    [0, 0, 0, 'neutral', 0],
    [2, 0, 2, 'neutral', 0], // below minVolume: a new sender is neutral
    [3, 0, 3, 'bad', 0.13],
    [0, 20, 20, 'good', 0.5],
    [0, 180, 180, 'good', 0.9],
    [10, 9, 19, 'neutral', 0], // mixed: |b| < 0.2
    [5, 0, 50, 'bad', 0.714], // undecided volume adds confidence, not badness
  ])('spam=%d ham=%d total=%d → %s × %d', (spam, ham, total, verdict, weight) => {
    const j = judge({ spam, ham, total, scoreSum: 0, updated: 1 }, J);
    expect(j.verdict).toBe(verdict);
    expect(j.weight).toBeCloseTo(weight, 2);
  });

  it('halves evidence every half-life and adds after decaying', () => {
    const s = addSample(EMPTY_REPUTATION, { spam: 1, ham: 0, score: 8 }, 1000, HOUR);
    expect(decayed(s, 1000 + 2 * HOUR, HOUR).spam).toBeCloseTo(0.25, 9);
    const t = addSample(s, { spam: 1, ham: 0, score: 8 }, 1000 + HOUR, HOUR);
    expect(t).toMatchObject({ spam: 1.5, total: 1.5, scoreSum: 12, updated: 1000 + HOUR });
  });

  it('learns from the score without its own symbols, and not from forced or unfinished verdicts', () => {
    const v = (action: Verdict['action'], score: number, syms: [string, number][] = [], forced = false): Verdict => ({
      action,
      score,
      required: 6,
      symbols: syms.map(([name, s]) => ({ name, score: s, options: [] })),
      ...(forced ? { forced: { by: 'policy_client', reason: 'allow' } } : {}),
    });
    const t = { greylist: 4, tag: 6 };
    expect(sampleOf(v('tag', 7), t)).toEqual({ spam: 1, ham: 0, score: 7 });
    expect(sampleOf(v('accept', 1), t)).toEqual({ spam: 0, ham: 1, score: 1 });
    expect(sampleOf(v('accept', 5), t)).toEqual({ spam: 0, ham: 0, score: 5 });
    // 7 of the 8 points came from a bad listing: learned as undecided, not as spam again.
    expect(sampleOf(v('tag', 8, [['REPUTATION_IP_BAD', 3], ['RBL', 5]]), t)).toEqual({ spam: 0, ham: 0, score: 5 });
    expect(sampleOf(v('accept', 0, [], true), t)).toBeUndefined();
    expect(sampleOf(v('greylist', 5), t)).toBeUndefined();
    expect(sampleOf(v('tempfail', 0), t)).toBeUndefined();
  });

  it('tracks only passing, whole-body DKIM signatures aligned with the From domain', () => {
    const f = new LayeredFacts();
    f.set(DMARC, { result: 'pass', policy: 'none', domain: 'news.example.org' });
    f.set(DKIM, [
      { domain: 'example.org', selector: 'a', result: 'pass' },
      { domain: 'esp.example', selector: 'b', result: 'pass' },
      { domain: 'mail.example.org', selector: 'c', result: 'fail' },
      { domain: 'x.example.org', selector: 'd', result: 'pass', partialBody: true },
    ]);
    expect(dkimKeys(f)).toEqual([{ kind: 'dkim', value: 'example.org' }]);
    expect(dkimKeys(new LayeredFacts())).toEqual([]);
  });
});

describe('reputation through the engine (embedded store, injected clock)', () => {
  let h: EngineHarness;
  afterEach(async () => h?.close());

  it('a new sender is neutral; a long-clean one earns growing credit', async () => {
    h = await storeEngine(createMemoryStores(), NO_RL);
    const first = await h.send({ ip: '192.0.2.10', score: 0 });
    expect(Object.keys(symbolsOf(first)).filter((s) => s.startsWith('REPUTATION_'))).toEqual([]);
    const weights: number[] = [];
    for (let i = 0; i < 60; i++) {
      h.clock.advance(60_000);
      const r = await h.send({ ip: '192.0.2.10', score: 0 });
      weights.push(symbolsOf(r)['REPUTATION_IP_GOOD'] ?? 0);
    }
    // Credit appears after minVolume and grows with volume toward the full −2.
    expect(weights[0]).toBe(0);
    expect(weights[10]).toBeLessThan(0);
    expect(weights[59]).toBeLessThan(weights[10]!);
    expect(weights[59]).toBeGreaterThan(-2);
    const last = await h.send({ ip: '192.0.2.10', score: 0 });
    const syms = symbolsOf(last);
    expect(syms['REPUTATION_NET_GOOD']).toBeLessThan(0);
    expect(syms['REPUTATION_HELO_GOOD']).toBeLessThan(0);
    expect(syms['REPUTATION_DOMAIN_GOOD']).toBeLessThan(0);
  });

  it('keeps no IP or network reputation for loopback clients', async () => {
    const stores = createMemoryStores();
    h = await storeEngine(stores, NO_RL);
    for (let i = 0; i < 10; i++) await h.send({ ip: '127.0.0.1', score: 12 });
    const r = await h.send({ ip: '127.0.0.1', score: 0 });
    expect(Object.keys(symbolsOf(r)).filter((s) => s.startsWith('REPUTATION_IP') || s.startsWith('REPUTATION_NET'))).toEqual([]);
    expect(symbolsOf(r)['REPUTATION_HELO_BAD']).toBeGreaterThan(0);
  });

  it('sees a snowshoe network rotating IPs inside one /24 though each IP is new', async () => {
    h = await storeEngine(createMemoryStores(), NO_RL);
    for (let i = 1; i <= 30; i++) {
      h.clock.advance(30_000);
      await h.send({ ip: `198.51.100.${i}`, helo: `host${i}.snow.example`, from: `offer${i}@snow${i}.example`, score: 9 });
    }
    const r = await h.send({ ip: '198.51.100.77', helo: 'host77.snow.example', from: 'x@snow77.example', score: 0 });
    const syms = symbolsOf(r);
    expect(syms['REPUTATION_NET_BAD']).toBeGreaterThan(1);
    expect(Object.keys(syms).filter((s) => s.startsWith('REPUTATION_IP_'))).toEqual([]);
    // The neighbouring /24 is untouched.
    const other = await h.send({ ip: '198.51.101.5', score: 0 });
    expect(Object.keys(symbolsOf(other)).filter((s) => s.startsWith('REPUTATION_'))).toEqual([]);
  });

  it('flags a spamming sender domain and DKIM domain, and forgets after many half-lives', async () => {
    h = await storeEngine(createMemoryStores(), NO_RL + '    \n  reputation:\n    halfLifeHours: 24\n');
    const spam = { from: 'promo@spammy.example', score: 12, headers: { 'X-Test-Dkim': 'spammy.example', 'X-Test-From': 'spammy.example' } };
    for (let i = 0; i < 10; i++) await h.send({ ip: `203.0.113.${i}`, ...spam });
    const r = await h.send({ ip: '192.0.2.200', ...spam, score: 0 });
    const syms = symbolsOf(r);
    expect(syms['REPUTATION_DOMAIN_BAD']).toBeGreaterThan(0);
    expect(syms['REPUTATION_DKIM_BAD']).toBeGreaterThan(0);
    h.clock.advance(30 * 24 * HOUR);
    const later = await h.send({ ip: '192.0.2.201', ...spam, score: 0 });
    expect(Object.keys(symbolsOf(later)).filter((s) => s.startsWith('REPUTATION_'))).toEqual([]);
  });
});
