import { describe, expect, test } from '@jest/globals';
import { factKey } from '../../../src/core/types.js';
import { engineWith, metricValue, sym, testCheck, transaction, CLIENT, MESSAGE } from './_helpers.js';

/** A promise with its resolver, for ordering checks without timers. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('pipeline', () => {
  test('independent checks of a stage run concurrently', async () => {
    // Each check waits until the other has started: run one after the other, both would time out.
    const aStarted = deferred();
    const bStarted = deferred();
    const { engine } = engineWith([
      testCheck('a', 'data', [sym('A_RAN')], async (ctx) => {
        aStarted.resolve();
        await bStarted.promise;
        ctx.emit('A_RAN');
      }),
      testCheck('b', 'data', [sym('B_RAN')], async (ctx) => {
        bStarted.resolve();
        await aStarted.promise;
        ctx.emit('B_RAN');
      }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(data.verdict.symbols.map((s) => s.name).sort()).toEqual(['A_RAN', 'B_RAN']);
  });

  test('dependsOn orders checks and passes facts; independents do not wait', async () => {
    const SPF_LIKE = factKey<string>('spf_like');
    const order: string[] = [];
    const aMayFinish = deferred();
    const { engine } = engineWith([
      testCheck('dependant', 'data', [sym('SAW_FACT')], (ctx) => {
        order.push('dependant');
        ctx.emit('SAW_FACT', [ctx.facts.get(SPF_LIKE) ?? 'missing']);
      }, { dependsOn: ['producer'] }),
      testCheck('producer', 'data', [sym('PRODUCED', 0)], async (ctx) => {
        order.push('producer start');
        await aMayFinish.promise; // released by the independent check: proves it ran meanwhile
        ctx.facts.set(SPF_LIKE, 'pass');
        order.push('producer end');
      }),
      testCheck('independent', 'data', [sym('INDEPENDENT', 0)], () => {
        order.push('independent');
        aMayFinish.resolve();
      }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(order).toEqual(['producer start', 'independent', 'producer end', 'dependant']);
    expect(data.verdict.symbols).toEqual([{ name: 'SAW_FACT', score: 1, options: ['pass'] }]);
  });

  test('facts of an earlier stage are visible later; transaction facts are forgotten on reset', async () => {
    const CONN = factKey<string>('conn');
    const TXN = factKey<string>('txn');
    const { engine } = engineWith([
      testCheck('c', 'connect', [sym('C_X', 0)], (ctx) => ctx.facts.set(CONN, 'rdns-ok')),
      testCheck('m', 'mail', [sym('M_X', 0)], (ctx) => {
        if (ctx.facts.get(TXN)) ctx.emit('M_X', ['stale']);
        ctx.facts.set(TXN, ctx.session.envelope.mailFrom);
      }),
      testCheck('d', 'data', [sym('D_SEEN')], (ctx) => ctx.emit('D_SEEN', [ctx.facts.get(CONN) ?? '-', ctx.facts.get(TXN) ?? '-'])),
    ]);
    const s = engine.open('smtp');
    const first = await transaction(s, 'one@example.org', ['y@example.com']);
    expect(first.data.verdict.symbols).toEqual([{ name: 'D_SEEN', score: 1, options: ['rdns-ok', 'one@example.org'] }]);
    s.reset();
    await s.mail('two@example.org', {});
    await s.rcpt('y@example.com');
    const second = await s.data(MESSAGE);
    expect(second.verdict.symbols).toEqual([{ name: 'D_SEEN', score: 1, options: ['rdns-ok', 'two@example.org'] }]);
  });

  test('a check that throws → CHECK_ERROR (0, counted), the others carry on', async () => {
    const { engine, metrics } = engineWith([
      testCheck('broken', 'data', [sym('NEVER')], () => {
        throw new Error('boom');
      }),
      testCheck('fine', 'data', [sym('FINE', 2)]),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(data.verdict.symbols).toEqual([
      { name: 'FINE', score: 2, options: [] },
      { name: 'CHECK_ERROR', score: 0, options: ['broken'] },
    ]);
    expect(data.verdict.score).toBe(2);
    expect(await metricValue(metrics, 'spamgate_check_errors_total', { check: 'broken', kind: 'error' })).toBe(1);
  });

  test('a check past its deadline → CHECK_TIMEOUT; its signal aborts; late emissions do not count', async () => {
    let sawAbort = false;
    const late = deferred();
    const { engine, metrics } = engineWith([
      testCheck('slow', 'data', [sym('SLOW_LATE', 5)], async (ctx) => {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        sawAbort = ctx.signal.aborted && (ctx.signal.reason as Error).name === 'TimeoutError';
        ctx.emit('SLOW_LATE');
        late.resolve();
      }, { timeoutMs: 20 }),
      testCheck('ignores_signal', 'data', [sym('NEVER_EMITTED', 5)], () => new Promise<void>(() => undefined), { timeoutMs: 20 }),
      testCheck('fine', 'data', [sym('FINE', 1)]),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    await late.promise;
    expect(sawAbort).toBe(true);
    expect(data.verdict.symbols).toEqual([
      { name: 'FINE', score: 1, options: [] },
      { name: 'CHECK_TIMEOUT', score: 0, options: ['slow', 'ignores_signal'] },
    ]);
    expect(await metricValue(metrics, 'spamgate_check_errors_total', { check: 'slow', kind: 'timeout' })).toBe(1);
    expect(await metricValue(metrics, 'spamgate_check_errors_total', { check: 'ignores_signal', kind: 'timeout' })).toBe(1);
  });

  test('a check past a short deadline does not abort a sibling with a longer one (emit works unbound)', async () => {
    let shortSignal: AbortSignal | undefined;
    const shortSeen = deferred();
    let longAbortedAfterShort: boolean | undefined;
    const { engine } = engineWith([
      testCheck('short', 'data', [sym('SHORT_LATE', 5)], (ctx) => {
        shortSignal = ctx.signal;
        shortSeen.resolve();
        return new Promise<void>(() => undefined); // never finishes: cut at its deadline
      }, { timeoutMs: 20 }),
      testCheck('long', 'data', [sym('LONG_OK', 1)], async (ctx) => {
        await shortSeen.promise;
        const s = shortSignal!;
        if (!s.aborted) await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve(), { once: true }));
        longAbortedAfterShort = ctx.signal.aborted;
        const emit = ctx.emit;
        emit('LONG_OK');
      }, { timeoutMs: 60_000 }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(longAbortedAfterShort).toBe(false);
    expect((shortSignal!.reason as Error).name).toBe('TimeoutError');
    expect(data.verdict.symbols).toEqual([
      { name: 'LONG_OK', score: 1, options: [] },
      { name: 'CHECK_TIMEOUT', score: 0, options: ['short'] },
    ]);
  });

  test('a dependent check’s deadline runs from its own start, not from the stage’s', async () => {
    // `clock` is cut at 30 ms; `producer` finishes only then; `dependant` (30 ms too) starts after
    // that and must get its full 30 ms, not a deadline that already passed.
    let clockSignal: AbortSignal | undefined;
    const clockSeen = deferred();
    let dependantSignalAborted: boolean | undefined;
    const { engine } = engineWith([
      testCheck('clock', 'data', [sym('CLOCK', 0)], (ctx) => {
        clockSignal = ctx.signal;
        clockSeen.resolve();
        return new Promise<void>(() => undefined);
      }, { timeoutMs: 30 }),
      testCheck('producer', 'data', [sym('PRODUCER', 0)], async () => {
        await clockSeen.promise;
        const s = clockSignal!;
        if (!s.aborted) await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve(), { once: true }));
      }, { timeoutMs: 60_000 }),
      testCheck('dependant', 'data', [sym('DEPENDANT_RAN', 1)], (ctx) => {
        dependantSignalAborted = ctx.signal.aborted;
        ctx.emit('DEPENDANT_RAN');
      }, { timeoutMs: 30, dependsOn: ['producer'] }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(dependantSignalAborted).toBe(false);
    expect(data.verdict.symbols).toEqual([
      { name: 'DEPENDANT_RAN', score: 1, options: [] },
      { name: 'CHECK_TIMEOUT', score: 0, options: ['clock'] },
    ]);
  });

  test('emitting an undeclared symbol is a programming error → CHECK_ERROR', async () => {
    const { engine } = engineWith([
      testCheck('sloppy', 'data', [sym('DECLARED', 3)], (ctx) => {
        ctx.emit('DECLARED');
        ctx.emit('NOT_DECLARED');
      }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(data.verdict.symbols.map((s) => s.name)).toEqual(['DECLARED', 'CHECK_ERROR']);
  });

  test('a symbol emitted twice counts once: options merged, highest weight', async () => {
    const { engine } = engineWith([
      testCheck('twice', 'data', [sym('TWICE', 4)], (ctx) => {
        ctx.emit('TWICE', ['a'], 0.25);
        ctx.emit('TWICE', ['b', 'a'], 0.5);
      }),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['y@example.com']);
    expect(data.verdict.symbols).toEqual([{ name: 'TWICE', score: 2, options: ['a', 'b'] }]);
  });

  test('the rcpt stage runs once per recipient with currentRcpt set', async () => {
    const seen: string[] = [];
    const { engine } = engineWith([
      testCheck('per_rcpt', 'rcpt', [sym('RCPT_SEEN', 0)], (ctx) => {
        seen.push(`${ctx.session.currentRcpt} after ${ctx.session.envelope.rcptTo.join(',') || '-'}`);
        ctx.emit('RCPT_SEEN', [ctx.session.currentRcpt!]);
      }),
      testCheck('env', 'data', [sym('ENV', 0)], (ctx) => ctx.emit('ENV', [...ctx.session.envelope.rcptTo])),
    ]);
    const { data } = await transaction(engine.open('scan'), 'x@example.org', ['a@example.com', 'b@example.com']);
    expect(seen).toEqual(['a@example.com after -', 'b@example.com after a@example.com']);
    expect(data.verdict.symbols.find((s) => s.name === 'RCPT_SEEN')?.options).toEqual(['a@example.com', 'b@example.com']);
    expect(data.verdict.symbols.find((s) => s.name === 'ENV')?.options).toEqual(['a@example.com', 'b@example.com']);
  });

  test('closing the session aborts running checks (no symbol, no error)', async () => {
    const started = deferred();
    let abortedWith: unknown;
    const { engine } = engineWith([
      testCheck('waits', 'data', [sym('WAITS')], async (ctx) => {
        started.resolve();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        abortedWith = ctx.signal.reason;
      }, { timeoutMs: 60_000 }),
    ]);
    const s = engine.open('smtp');
    await s.connect(CLIENT);
    await s.mail('x@example.org', {});
    await s.rcpt('y@example.com');
    const pending = s.data(MESSAGE);
    await started.promise;
    s.close();
    const r = await pending;
    expect((abortedWith as Error).message).toBe('session closed');
    expect(r.verdict.symbols).toEqual([]);
  });

  test('a stage called after close runs no check', async () => {
    let ran = 0;
    const { engine } = engineWith([testCheck('counts', 'mail', [sym('COUNTED')], () => void ran++)]);
    const s = engine.open('smtp');
    await s.connect(CLIENT);
    s.close();
    expect(await s.mail('x@example.org', {})).toEqual({ action: 'continue' });
    expect(ran).toBe(0);
  });

  test('check duration is recorded per check', async () => {
    const { engine, metrics } = engineWith([testCheck('timed', 'connect', [sym('TIMED', 0)])]);
    const s = engine.open('smtp');
    await s.connect(CLIENT);
    const json = await metrics.registry.getMetricsAsJSON();
    const count = json.find((m) => m.name === 'spamgate_check_duration_seconds')?.values.find((v) => v.labels.check === 'timed' && (v as { metricName?: string }).metricName?.endsWith('_count'));
    expect(count?.value).toBe(1);
  });
});
