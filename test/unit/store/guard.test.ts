/** The store guard: deadline, error type, metrics and the circuit breaker (injected breaker clock). */
import { describe, expect, it } from '@jest/globals';
import { StoreGuard } from '../../../src/store/guard.js';
import { StoreUnavailableError } from '../../../src/store/stores-api.js';
import { createMetrics } from '../../../src/metrics/metrics.js';

const never = () => new Promise<never>(() => {});
const fail = () => Promise.reject(new Error('ECONNREFUSED'));

async function errors(m: ReturnType<typeof createMetrics>): Promise<number> {
  return (await m.storeErrors.get()).values.reduce((t, v) => t + v.value, 0);
}

describe('StoreGuard', () => {
  it('turns a hang into StoreUnavailableError at the deadline and counts it', async () => {
    const metrics = createMetrics();
    const g = new StoreGuard(5, { metrics });
    await expect(g.call('reputation', 'get', never)).rejects.toThrow(/reputation store unavailable \(get\): deadline 5 ms/);
    await expect(g.call('greylist', 'check', fail)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await g.call('history', 'list', async () => 42)).toBe(42);
    expect(await errors(metrics)).toBe(2);
  });

  it('opens after repeated failures, fails at once while open, probes after the cooldown', async () => {
    let now = 0;
    const g = new StoreGuard(5, {}, { failures: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) await expect(g.call('ratelimit', 'take', fail)).rejects.toThrow(/ECONNREFUSED/);
    expect(g.open).toBe(true);
    let called = false;
    await expect(
      g.call('ratelimit', 'take', async () => {
        called = true;
      }),
    ).rejects.toThrow(/circuit open/);
    expect(called).toBe(false);
    // After the cooldown one failing probe reopens at once.
    now = 1000;
    await expect(g.call('ratelimit', 'take', fail)).rejects.toThrow(/ECONNREFUSED/);
    expect(g.open).toBe(true);
    // A successful probe closes it.
    now = 2000;
    expect(await g.call('ratelimit', 'take', async () => 'ok')).toBe('ok');
    expect(g.open).toBe(false);
    await expect(g.call('ratelimit', 'take', fail)).rejects.toThrow(/ECONNREFUSED/);
    expect(g.open).toBe(false);
    g.reset();
    expect(g.open).toBe(false);
  });
});
