import { describe, expect, test } from '@jest/globals';
import type { TransactionObserver, TransactionOutcome, VerdictModifier } from '../../../src/core/engine-api.js';
import { AUTH_RESULTS, SPF } from '../../../src/core/facts.js';
import type { Verdict } from '../../../src/core/types.js';
import { engineWith, metricValue, sym, testCheck, transaction } from './_helpers.js';

const scoring = (score: number) => testCheck('scorer', 'data', [sym('SCORED', score)]);

describe('engine', () => {
  test('DataResult: headers, removal predicate and subject prefix on tag', async () => {
    const { engine } = engineWith(
      [
        scoring(7.3),
        testCheck('auth', 'data', [sym('AUTH_DONE', 0)], (ctx) => ctx.facts.set(AUTH_RESULTS, 'mx.isp.example; spf=pass smtp.mailfrom=example.org')),
      ],
      'hostname: mx.isp.example\nactions: { subjectPrefix: "[SPAM] " }',
    );
    const msg = Buffer.from('Subject: Cheap\r\n =?utf-8?q?pills?=\r\nX-Spam-Flag: NO\r\n\r\nSubject: not this\r\n');
    const { data } = await transaction(engine.open('smtp'), 'a@example.org', ['b@example.com'], msg);
    expect(data.verdict).toMatchObject({ action: 'tag', score: 7.3, required: 6 });
    expect(data.prependHeaders).toEqual([
      'Authentication-Results: mx.isp.example; spf=pass smtp.mailfrom=example.org',
      'X-Spam-Flag: YES',
      'X-Spam-Score: 7.3',
      'X-Spam-Level: *******',
      'X-Spam-Status: Yes, score=7.3 required=6.0 tests=SCORED',
      'X-Spamgate-Symbols: SCORED(7.30)',
    ]);
    expect(data.newSubject).toBe('[SPAM] Cheap =?utf-8?q?pills?=');
    expect(data.removeHeader('x-spam-flag', 'NO')).toBe(true);
    expect(data.removeHeader('authentication-results', 'mx.isp.example; dkim=pass')).toBe(true);
    expect(data.removeHeader('authentication-results', 'other.example; dkim=pass')).toBe(false);
  });

  test('verdict modifiers run only for the actions they apply to; a failing one is skipped', async () => {
    const calls: string[] = [];
    const greylistPass: VerdictModifier = {
      name: 'greylist',
      appliesTo: ['greylist'],
      async adjust(session, verdict, facts) {
        calls.push(`${verdict.action}:${session.envelope.mailFrom}:${facts.get(SPF)?.result ?? '-'}`);
        return { ...verdict, action: 'accept' };
      },
    };
    const broken: VerdictModifier = {
      name: 'broken',
      adjust: async () => {
        throw new Error('redis down');
      },
    };
    const { engine } = engineWith([scoring(5), testCheck('spf', 'mail', [sym('SPF_X', 0)], (ctx) => ctx.facts.set(SPF, { result: 'pass', domain: 'example.org' }))], '', {
      modifiers: [broken, greylistPass],
    });
    const { data } = await transaction(engine.open('smtp'), 'a@example.org', ['b@example.com']);
    expect(calls).toEqual(['greylist:a@example.org:pass']);
    expect(data.verdict.action).toBe('accept');

    // Never for a forced verdict (e.g. a rate limit forcing greylist).
    const { engine: forced } = engineWith([testCheck('limit', 'mail', [sym('LIMITED', 0)], (ctx) => ctx.force('greylist', 'rate limit'))], '', { modifiers: [greylistPass] });
    const fr = await transaction(forced.open('smtp'), 'a@example.org', ['b@example.com']);
    expect(fr.data.verdict).toMatchObject({ action: 'greylist', forced: { by: 'limit', reason: 'rate limit' } });
    expect(calls).toHaveLength(1);

    const { engine: e2 } = engineWith([scoring(7)], '', { modifiers: [greylistPass] });
    const r2 = await transaction(e2.open('smtp'), 'a@example.org', ['b@example.com']);
    expect(r2.data.verdict.action).toBe('tag');
    expect(calls).toHaveLength(1);
  });

  test('transaction observers: after delivered() for relayed mail, at once for refused mail, once each', async () => {
    const seen: { action: string; outcome: TransactionOutcome; spf?: string; rcpts: readonly string[] }[] = [];
    const observer: TransactionObserver = {
      name: 'history',
      onTransaction(session, verdict: Verdict, outcome, facts) {
        seen.push({ action: verdict.action, outcome, rcpts: session.envelope.rcptTo, ...(facts.get(SPF) ? { spf: facts.get(SPF)!.result } : {}) });
      },
    };
    const failing: TransactionObserver = { name: 'failing', onTransaction: () => Promise.reject(new Error('down')) };
    const spf = testCheck('spf', 'mail', [sym('SPF_X', 0)], (ctx) => ctx.facts.set(SPF, { result: 'fail', domain: 'example.org' }));
    const { engine } = engineWith([scoring(1), spf], '', { observers: [failing, observer] });
    const s = engine.open('smtp');
    await transaction(s, 'a@example.org', ['b@example.com']);
    await engine.flush();
    expect(seen).toEqual([]); // not before the downstream answered
    s.delivered({ accepted: true, code: 250, text: 'queued' });
    s.reset(); // facts given to observers are a snapshot: reset does not clear them
    s.delivered({ accepted: true, code: 250, text: 'again' }); // after reset: nothing to observe
    await engine.flush();
    expect(seen).toEqual([{ action: 'accept', outcome: { accepted: true, code: 250, text: 'queued' }, spf: 'fail', rcpts: ['b@example.com'] }]);

    const { engine: e2 } = engineWith([scoring(20)], '', { observers: [observer] });
    const s2 = e2.open('smtp');
    await transaction(s2, 'a@example.org', ['b@example.com']);
    s2.delivered({ accepted: false, code: 550, text: 'x' }); // already observed at the verdict
    await e2.flush();
    expect(seen[1]).toEqual({ action: 'reject', outcome: { accepted: false, code: 550, text: 'Message rejected as spam: spam score 20 reaches 15' }, rcpts: ['b@example.com'] });
    expect(seen).toHaveLength(2);
  });

  test('a command refused before DATA is observed too (history answers "why refused?"), with the refused recipient', async () => {
    const seen: { action: string; forcedBy?: string; outcome: TransactionOutcome; rcpts: readonly string[] }[] = [];
    const observer: TransactionObserver = {
      name: 'history',
      onTransaction(session, verdict, outcome) {
        seen.push({ action: verdict.action, ...(verdict.forced ? { forcedBy: verdict.forced.by } : {}), outcome, rcpts: session.envelope.rcptTo });
      },
    };
    const limiter = testCheck('limit', 'rcpt', [sym('LIMITED', 0)], (ctx) => {
      if (ctx.session.currentRcpt === 'busy@example.com') ctx.force('tempfail', 'rate limit', { code: 451, enhanced: '4.7.0', text: 'Rate limit exceeded' });
    });
    const { engine } = engineWith([limiter], '', { observers: [observer] });
    const s = engine.open('smtp');
    const { stages } = await transaction(s, 'a@example.org', ['ok@example.com', 'busy@example.com']);
    expect(stages[4]).toMatchObject({ action: 'tempfail', reason: 'rate limit' });
    await engine.flush();
    expect(seen).toEqual([
      { action: 'tempfail', forcedBy: 'limit', outcome: { accepted: false, code: 451, text: 'Rate limit exceeded' }, rcpts: ['ok@example.com', 'busy@example.com'] },
    ]);
    // The accepted recipient's message is still observed once the downstream answers.
    s.delivered({ accepted: true, code: 250, text: 'queued' });
    await engine.flush();
    expect(seen[1]).toMatchObject({ action: 'accept', rcpts: ['ok@example.com'] });
  });

  test('metrics: symbol hits once per message (messages_total is the front-end\'s)', async () => {
    const { engine, metrics } = engineWith([testCheck('scorer', 'data', [sym('SCORED', 7)], (ctx) => {
      ctx.emit('SCORED', ['a']);
      ctx.emit('SCORED', ['b']);
    })]);
    await transaction(engine.open('scan'), 'a@example.org', ['b@example.com']);
    await transaction(engine.open('smtp'), 'a@example.org', ['b@example.com']);
    expect(await metricValue(metrics, 'spamgate_messages_total', { action: 'tag', frontend: 'smtp' })).toBe(0);
    expect(await metricValue(metrics, 'spamgate_symbol_hits_total', { symbol: 'SCORED' })).toBe(2);
  });

  test('a new MAIL starts a fresh transaction (symbols, recipients, forced actions)', async () => {
    const { engine } = engineWith([
      testCheck('m', 'mail', [sym('BAD_SENDER', 20)], (ctx) => {
        if (ctx.session.envelope.mailFrom.startsWith('bad')) ctx.emit('BAD_SENDER');
      }),
    ]);
    const s = engine.open('smtp');
    expect((await transaction(s, 'bad@example.org', ['b@example.com'])).data.verdict.action).toBe('reject');
    await s.mail('good@example.org', {}); // no reset() in between
    await s.rcpt('c@example.com');
    const v = (await s.data(Buffer.from('\r\nbody\r\n'))).verdict;
    expect(v).toMatchObject({ action: 'accept', score: 0, symbols: [] });
  });

  test('a second EHLO (after STARTTLS) replaces the first one\'s evidence', async () => {
    const { engine } = engineWith([
      testCheck('helo_name', 'helo', [sym('HELO_BAD', 3)], (ctx) => {
        if (ctx.session.helo === 'bad') ctx.emit('HELO_BAD');
      }),
      testCheck('conn', 'connect', [sym('CONN_SEEN', 1)]),
    ]);
    const s = engine.open('smtp');
    await s.connect({ ip: '192.0.2.1', port: 1, tls: false });
    await s.helo('bad');
    await s.helo('good.example');
    await s.mail('a@example.org', {});
    await s.rcpt('b@example.com');
    const v = (await s.data(Buffer.from('\r\nx\r\n'))).verdict;
    expect(v.symbols.map((x) => x.name)).toEqual(['CONN_SEEN']);
  });
});
