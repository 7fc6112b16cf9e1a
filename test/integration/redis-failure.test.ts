/**
 * Redis trouble under traffic, against a real redis-server: killed, paused (SIGSTOP) and busy
 * (DEBUG SLEEP). Every transaction still gets its verdict (nothing throws, nothing hangs), the
 * Redis-backed checks report *_UNAVAILABLE within the store deadline — never CHECK_TIMEOUT, whose
 * deadline is longer — errors are counted, and everything recovers once Redis is back.
 * `redis.failMode: closed` tempfails instead.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { createStores } from '../../src/store/index.js';
import { StoreUnavailableError, type Stores } from '../../src/store/stores-api.js';
import { RedisServer, rawCommand } from '../helpers/redis-server.js';
import { storeEngine, type EngineHarness, type TxResult } from '../helpers/redis-engine.js';

// Check deadlines well above the 100 ms store deadline: a CHECK_TIMEOUT would mean a store call hung.
const YAML = `
checks:
  reputation: { timeoutMs: 2000 }
  ratelimit: { timeoutMs: 2000 }
`;

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => server?.stop());

function storesFor(metrics: Metrics, failMode: 'open' | 'closed' = 'open'): Stores {
  const cfg = configSchema.parse({ redis: { url: server.url, prefix: `f${Math.random().toString(36).slice(2, 8)}:`, commandTimeoutMs: 100, failMode } }).redis;
  return createStores(cfg, { metrics });
}

function allSymbols(r: TxResult): string[] {
  return (r.data?.verdict.symbols ?? []).map((s) => s.name);
}

/** Send `n` transactions, several at a time, as a busy MX would. */
async function traffic(h: EngineHarness, n: number, score = 5): Promise<TxResult[]> {
  const out: TxResult[] = [];
  for (let i = 0; i < n; i += 5) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(5, n - i) }, (_, j) => h.send({ ip: `192.0.2.${(i + j) % 250}`, score, rcpts: [`u${i + j}@example.net`] })))));
  }
  return out;
}

async function errorCount(m: Metrics): Promise<number> {
  const v = await m.storeErrors.get();
  return v.values.reduce((t, x) => t + x.value, 0);
}

describe('Redis failures under traffic', () => {
  it('fails open when Redis is killed, and recovers after the restart', async () => {
    const metrics = createMetrics();
    const stores = storesFor(metrics);
    expect(await stores.ready(5000)).toBe(true);
    const h = await storeEngine(stores, YAML);
    try {
      const before = await traffic(h, 5);
      expect(before.every((r) => r.data !== undefined)).toBe(true);
      expect(before.flatMap(allSymbols).filter((s) => s.endsWith('UNAVAILABLE'))).toEqual([]);

      // Kill while transactions are in flight.
      const inFlight = traffic(h, 20);
      await server.kill();
      const during = [...(await inFlight), ...(await traffic(h, 10))];
      expect(during.every((r) => r.data !== undefined)).toBe(true);
      const after = during.slice(-10);
      for (const r of after) {
        expect(allSymbols(r)).toEqual(
          expect.arrayContaining(['REPUTATION_UNAVAILABLE', 'RATELIMIT_UNAVAILABLE', 'RATELIMIT_MAIL_UNAVAILABLE', 'RATELIMIT_RCPT_UNAVAILABLE', 'GREYLIST_UNAVAILABLE']),
        );
        // Greylist band, store down, fail open: the mail flows.
        expect(r.data!.verdict.action).toBe('accept');
      }
      expect(during.flatMap(allSymbols)).not.toContain('CHECK_TIMEOUT');
      expect(await errorCount(metrics)).toBeGreaterThan(0);

      await server.restart();
      expect(await stores.ready(10_000)).toBe(true);
      const recovered = await traffic(h, 5);
      expect(recovered.flatMap(allSymbols).filter((s) => s.endsWith('UNAVAILABLE'))).toEqual([]);
      expect(recovered.every((r) => r.data!.verdict.action === 'greylist')).toBe(true);
    } finally {
      await h.close();
      await stores.close();
    }
  }, 30_000);

  it('fails open while Redis is stopped (SIGSTOP) and recovers on SIGCONT', async () => {
    const metrics = createMetrics();
    const stores = storesFor(metrics);
    expect(await stores.ready(5000)).toBe(true);
    const h = await storeEngine(stores, YAML);
    try {
      server.pause();
      const during = await traffic(h, 10);
      // A direct call fails with the store's error, not a hang.
      await expect(stores.history.list(1)).rejects.toBeInstanceOf(StoreUnavailableError);
      server.resume();
      expect(during.every((r) => r.data !== undefined)).toBe(true);
      for (const r of during) expect(allSymbols(r)).toEqual(expect.arrayContaining(['REPUTATION_UNAVAILABLE', 'GREYLIST_UNAVAILABLE']));
      expect(during.flatMap(allSymbols)).not.toContain('CHECK_TIMEOUT');
      expect(await stores.ready(5000)).toBe(true);
      const recovered = await traffic(h, 5);
      expect(recovered.flatMap(allSymbols).filter((s) => s.endsWith('UNAVAILABLE'))).toEqual([]);
    } finally {
      server.resume();
      await h.close();
      await stores.close();
    }
  }, 30_000);

  it('fails open during DEBUG SLEEP and recovers after it', async () => {
    const stores = storesFor(createMetrics());
    expect(await stores.ready(5000)).toBe(true);
    const h = await storeEngine(stores, YAML);
    try {
      const sleeping = rawCommand(server.port, 'DEBUG SLEEP 1.5', 5000);
      await new Promise((r) => setTimeout(r, 50)); // let the server start sleeping
      const during = await traffic(h, 5);
      await sleeping;
      for (const r of during) expect(allSymbols(r)).toContain('REPUTATION_UNAVAILABLE');
      expect(during.flatMap(allSymbols)).not.toContain('CHECK_TIMEOUT');
      expect(await stores.ready(5000)).toBe(true);
      const recovered = await traffic(h, 5);
      expect(recovered.flatMap(allSymbols).filter((s) => s.endsWith('UNAVAILABLE'))).toEqual([]);
    } finally {
      await h.close();
      await stores.close();
    }
  }, 30_000);

  it('tempfails at connect with failMode closed', async () => {
    const stores = storesFor(createMetrics(), 'closed');
    expect(await stores.ready(5000)).toBe(true);
    const h = await storeEngine(stores, YAML);
    try {
      expect((await h.send({ ip: '192.0.2.1' })).connect.action).toBe('continue');
      server.pause();
      const r = await h.send({ ip: '192.0.2.1' });
      server.resume();
      expect(r.connect).toMatchObject({ action: 'tempfail' });
    } finally {
      server.resume();
      await h.close();
      await stores.close();
    }
  }, 30_000);
});
