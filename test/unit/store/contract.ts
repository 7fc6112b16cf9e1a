/**
 * The one contract every Stores implementation passes (embedded, Redis, Redis Cluster). Time is
 * injected through `now`; nothing sleeps. Each test gets fresh stores (a fresh key prefix on Redis).
 */
import { expect, it, describe, afterEach } from '@jest/globals';
import type { GreylistOptions, ReputationOptions, Stores } from '../../../src/store/stores-api.js';
import { EMPTY_REPUTATION } from '../../../src/store/stores-api.js';

export type StoresFactory = () => Promise<Stores>;

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const REP: ReputationOptions = { halfLifeMs: DAY, ttlMs: 30 * DAY };
const GL: GreylistOptions = { delayMs: 5 * MIN, retryWindowMs: 4 * HOUR, passTtlMs: 30 * DAY, autoAllowAfter: 2, autoAllowTtlMs: 30 * DAY };

export function storeContract(label: string, make: StoresFactory): void {
  describe(`stores contract: ${label}`, () => {
    let open: Stores[] = [];
    const fresh = async () => {
      const s = await make();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.map((s) => s.close()));
      open = [];
    });

    describe('reputation', () => {
      it('is empty for an unknown key', async () => {
        const s = await fresh();
        expect(await s.reputation.get([{ kind: 'ip', value: '192.0.2.1' }], T0, REP)).toEqual([EMPTY_REPUTATION]);
      });

      it('accumulates samples and decays them by the half-life', async () => {
        const s = await fresh();
        const k = { kind: 'ip' as const, value: '192.0.2.1' };
        for (let i = 0; i < 3; i++) await s.reputation.record([k], { spam: 1, ham: 0, score: 10 }, T0, REP);
        const [now] = await s.reputation.get([k], T0, REP);
        expect(now).toMatchObject({ spam: 3, ham: 0, total: 3, scoreSum: 30, updated: T0 });
        const [later] = await s.reputation.get([k], T0 + DAY, REP);
        expect(later!.spam).toBeCloseTo(1.5, 6);
        expect(later!.scoreSum).toBeCloseTo(15, 6);
        // Decay then add: 3·¼ + 1 ham two half-lives later.
        await s.reputation.record([k], { spam: 0, ham: 1, score: -1 }, T0 + 2 * DAY, REP);
        const [after] = await s.reputation.get([k], T0 + 2 * DAY, REP);
        expect(after).toMatchObject({ ham: 1, updated: T0 + 2 * DAY });
        expect(after!.spam).toBeCloseTo(0.75, 6);
        expect(after!.total).toBeCloseTo(1.75, 6);
      });

      it('keeps kinds and values apart and answers in order', async () => {
        const s = await fresh();
        const keys = [
          { kind: 'ip' as const, value: '192.0.2.1' },
          { kind: 'net' as const, value: '192.0.2.0/24' },
          { kind: 'domain' as const, value: 'Example.ORG' },
          { kind: 'helo' as const, value: 'x'.repeat(300) },
        ];
        await s.reputation.record(keys.slice(1), { spam: 0, ham: 1, score: 0 }, T0, REP);
        const got = await s.reputation.get(keys, T0, REP);
        expect(got.map((g) => g.ham)).toEqual([0, 1, 1, 1]);
        // Case-insensitive domain.
        expect((await s.reputation.get([{ kind: 'domain', value: 'example.org' }], T0, REP))[0]!.ham).toBe(1);
        expect((await s.reputation.get([{ kind: 'dkim', value: 'example.org' }], T0, REP))[0]!.ham).toBe(0);
      });

      it('set and clear (admin)', async () => {
        const s = await fresh();
        const k = { kind: 'net' as const, value: '198.51.100.0/24' };
        await s.reputation.set(k, { spam: 50, ham: 2, total: 52, scoreSum: 600, updated: T0 }, REP);
        expect((await s.reputation.get([k], T0, REP))[0]).toEqual({ spam: 50, ham: 2, total: 52, scoreSum: 600, updated: T0 });
        await s.reputation.clear(k);
        expect((await s.reputation.get([k], T0, REP))[0]).toEqual(EMPTY_REPUTATION);
      });
    });

    describe('greylist', () => {
      const tr = { net: '192.0.2.0/24', sender: 'a@example.org', rcpt: 'u@example.net' };
      // Table: minutes after the first attempt → expected state.
      const table: [string, number, string, number][] = [
        ['first attempt', 0, 'new', 5 * MIN],
        ['retry too early', 1, 'early', 4 * MIN],
        ['retry at the delay', 5, 'pass', 0],
        ['later message, same triplet', 60, 'pass', 0],
        ['29 days after the last use', 60 + 29 * 24 * 60, 'pass', 0],
        ['31 days after the last use', 60 + 29 * 24 * 60 + 31 * 24 * 60, 'new', 5 * MIN],
      ];
      it('walks the triplet state machine', async () => {
        const s = await fresh();
        for (const [what, minutes, state, retry] of table) {
          const [r] = await s.greylist.check([tr], T0 + minutes * MIN, GL);
          expect({ what, ...r }).toEqual({ what, state, retryInMs: retry });
        }
      });

      it('starts over when the retry comes after the window', async () => {
        const s = await fresh();
        await s.greylist.check([tr], T0, GL);
        const [late] = await s.greylist.check([tr], T0 + 5 * MIN + 4 * HOUR + 1, GL);
        expect(late!.state).toBe('new');
        const [again] = await s.greylist.check([tr], T0 + 5 * MIN + 4 * HOUR + 1 + 5 * MIN, GL);
        expect(again!.state).toBe('pass');
      });

      it('keeps networks, senders and recipients apart', async () => {
        const s = await fresh();
        await s.greylist.check([tr], T0, GL);
        const r = await s.greylist.check(
          [tr, { ...tr, net: '192.0.3.0/24' }, { ...tr, sender: 'b@example.org' }, { ...tr, rcpt: 'v@example.net' }],
          T0 + 10 * MIN,
          GL,
        );
        expect(r.map((x) => x.state)).toEqual(['pass', 'new', 'new', 'new']);
      });

      it('auto-allows network + sender domain after repeated passes', async () => {
        const s = await fresh();
        const rcpts = ['r1@example.net', 'r2@example.net'];
        await s.greylist.check(rcpts.map((rcpt) => ({ ...tr, rcpt })), T0, GL);
        expect((await s.greylist.check(rcpts.map((rcpt) => ({ ...tr, rcpt })), T0 + 6 * MIN, GL)).map((x) => x.state)).toEqual(['pass', 'pass']);
        // A new recipient and another sender of the same domain: allowed without delay.
        const [r3] = await s.greylist.check([{ ...tr, sender: 'other@example.org', rcpt: 'r3@example.net' }], T0 + 7 * MIN, GL);
        expect(r3!.state).toBe('allowed');
        // Another network is not.
        const [r4] = await s.greylist.check([{ ...tr, net: '203.0.113.0/24', rcpt: 'r3@example.net' }], T0 + 7 * MIN, GL);
        expect(r4!.state).toBe('new');
        // The allowance lapses 30 days after the last pass.
        const [r5] = await s.greylist.check([{ ...tr, rcpt: 'r9@example.net' }], T0 + 6 * MIN + 31 * DAY, GL);
        expect(r5!.state).toBe('new');
      });

      it('never auto-allows the null sender', async () => {
        const s = await fresh();
        const b = { ...tr, sender: '' };
        const rcpts = ['r1@example.net', 'r2@example.net', 'r3@example.net'];
        await s.greylist.check(rcpts.map((rcpt) => ({ ...b, rcpt })), T0, GL);
        await s.greylist.check(rcpts.map((rcpt) => ({ ...b, rcpt })), T0 + 6 * MIN, GL);
        const [r] = await s.greylist.check([{ ...b, rcpt: 'r4@example.net' }], T0 + 7 * MIN, GL);
        expect(r!.state).toBe('new');
      });
    });

    describe('rate limits', () => {
      const b = { key: 'ip:192.0.2.1', ratePerSec: 1, burst: 3 };
      it('allows the burst, refuses the next, refills at the rate', async () => {
        const s = await fresh();
        const seq: [number, boolean, number, number][] = [
          // [ms, allowed, remaining, retryAfterMs]
          [0, true, 2, 0],
          [0, true, 1, 0],
          [0, true, 0, 0],
          [0, false, 0, 1000],
          [500, false, 0, 500],
          [1000, true, 0, 0],
          [60_000, true, 2, 0],
        ];
        for (const [ms, allowed, remaining, retryAfterMs] of seq) {
          const [r] = await s.ratelimit.take([b], T0 + ms);
          expect({ ms, ...r }).toEqual({ ms, allowed, remaining, retryAfterMs });
        }
      });

      it('keeps buckets independent and can reset one', async () => {
        const s = await fresh();
        const other = { key: 'rcpt:u@example.net', ratePerSec: 0.5, burst: 1 };
        expect((await s.ratelimit.take([b, other], T0)).map((r) => r.allowed)).toEqual([true, true]);
        expect((await s.ratelimit.take([b, other], T0)).map((r) => r.allowed)).toEqual([true, false]);
        expect((await s.ratelimit.take([other], T0))[0]!.retryAfterMs).toBe(2000);
        await s.ratelimit.reset(other.key);
        expect((await s.ratelimit.take([other], T0))[0]!.allowed).toBe(true);
      });

      it('gives tokens back with a negative cost, never above the burst', async () => {
        const s = await fresh();
        await s.ratelimit.take([b, b, b], T0);
        expect((await s.ratelimit.take([b], T0))[0]!.allowed).toBe(false);
        await s.ratelimit.take([b], T0, -1);
        expect((await s.ratelimit.take([b], T0))[0]).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
        await s.ratelimit.take([b], T0, -10);
        expect((await s.ratelimit.take([b], T0))[0]!.remaining).toBe(2);
      });

      it('takes a cost of several tokens', async () => {
        const s = await fresh();
        const big = { key: 'sender:a@example.org', ratePerSec: 10, burst: 10 };
        expect((await s.ratelimit.take([big], T0, 8))[0]).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
        expect((await s.ratelimit.take([big], T0, 8))[0]).toEqual({ allowed: false, remaining: 2, retryAfterMs: 600 });
      });
    });

    describe('calls made at once (one SMTP stage, several sessions)', () => {
      it('answers each call with its own reply, in call order', async () => {
        const s = await fresh();
        const ip = { kind: 'ip' as const, value: '192.0.2.1' };
        await s.reputation.record([ip], { spam: 1, ham: 0, score: 9 }, T0, REP);
        const tight = { key: 'ip:192.0.2.1', ratePerSec: 1, burst: 1 };
        const tr = { net: '192.0.2.0/24', sender: 'a@example.org', rcpt: 'u@example.net' };
        const [take, rep, grey, , again, learned] = await Promise.all([
          s.ratelimit.take([tight, { key: 'net:192.0.2.0/24', ratePerSec: 1, burst: 5 }], T0),
          s.reputation.get([ip, { kind: 'net', value: '192.0.2.0/24' }, { kind: 'helo', value: 'mx.example.org' }], T0, REP),
          s.greylist.check([tr, { ...tr, rcpt: 'v@example.net' }], T0, GL),
          s.history.push({ time: T0, sessionId: 'batch', clientIp: '192.0.2.1', mailFrom: '', rcptTo: [], score: 0, action: 'accept', symbols: [] }),
          // Same bucket again, issued after the first take: it sees the first take.
          s.ratelimit.take([tight], T0),
          s.reputation.record([ip, { kind: 'helo', value: 'mx.example.org' }], { spam: 0, ham: 1, score: 0 }, T0, REP),
        ]);
        expect(take).toEqual([
          { allowed: true, remaining: 0, retryAfterMs: 0 },
          { allowed: true, remaining: 4, retryAfterMs: 0 },
        ]);
        expect(rep.map((r) => r.spam)).toEqual([1, 0, 0]);
        expect(rep[1]).toEqual(EMPTY_REPUTATION);
        expect(grey.map((g) => g.state)).toEqual(['new', 'new']);
        expect(again).toEqual([{ allowed: false, remaining: 0, retryAfterMs: 1000 }]);
        expect(learned).toBeUndefined();
        expect((await s.history.list(1))[0]!.sessionId).toBe('batch');
        const after = await s.reputation.get([ip, { kind: 'helo', value: 'mx.example.org' }], T0, REP);
        expect(after.map((r) => [r.spam, r.ham, r.total])).toEqual([
          [1, 1, 2],
          [0, 1, 1],
        ]);
      });
    });

    describe('history', () => {
      const entry = (i: number) => ({
        time: T0 + i,
        sessionId: `s${i}`,
        clientIp: '192.0.2.1',
        helo: 'mx.example.org',
        mailFrom: 'a@example.org',
        rcptTo: ['u@example.net'],
        subject: `Hello ${i} ünïcode`,
        score: 7.5,
        action: 'tag',
        symbols: [{ name: 'RBL_X', score: 4, options: ['zone'] }],
        outcome: '250 2.0.0 queued',
      });
      it('keeps the newest entries up to the bound, newest first', async () => {
        const s = await fresh();
        for (let i = 0; i < 5; i++) await s.history.push(entry(i), { maxEntries: 3, ttlMs: DAY });
        const list = await s.history.list(10);
        expect(list.map((e) => e.sessionId)).toEqual(['s4', 's3', 's2']);
        expect(list[0]).toEqual(entry(4));
        expect((await s.history.list(1)).length).toBe(1);
        expect(await s.history.list(0)).toEqual([]);
      });
    });

    describe('bayes tokens', () => {
      it('counts tokens, never below zero, and learned messages', async () => {
        const s = await fresh();
        expect(await s.bayes.getTokens(['viagra', 'meeting'])).toEqual([
          { spam: 0, ham: 0 },
          { spam: 0, ham: 0 },
        ]);
        await s.bayes.incrementTokens(['viagra', 'cheap', 'viagra'], { spam: 1, ham: 0 });
        await s.bayes.incrementTokens(['meeting', 'cheap'], { spam: 0, ham: 2 });
        await s.bayes.incrementTokens(['meeting'], { spam: -5, ham: -1 });
        expect(await s.bayes.getTokens(['viagra', 'cheap', 'meeting', 'unknown'])).toEqual([
          { spam: 1, ham: 0 },
          { spam: 1, ham: 2 },
          { spam: 0, ham: 1 },
          { spam: 0, ham: 0 },
        ]);
        await s.bayes.incrementLearned({ spam: 3, ham: 1 });
        await s.bayes.incrementLearned({ spam: 1, ham: 0 });
        expect(await s.bayes.getLearned()).toEqual({ spam: 4, ham: 1 });
      });

      it('reads many tokens in one call', async () => {
        const s = await fresh();
        const tokens = Array.from({ length: 500 }, (_, i) => `tok${i}`);
        await s.bayes.incrementTokens(tokens, { spam: 1, ham: 1 });
        const got = await s.bayes.getTokens(tokens);
        expect(got.every((c) => c.spam === 1 && c.ham === 1)).toBe(true);
      });
    });
  });
}
