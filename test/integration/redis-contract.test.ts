/**
 * The shared store contract against a real redis-server (or $REDIS_URL) and a real 3-master
 * Redis Cluster on loopback, plus what only Redis has: TTLs on every key, hash-tag slots.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { configSchema } from '../../src/config/schema.js';
import { createRedisStores } from '../../src/store/redis.js';
import { createStores } from '../../src/store/index.js';
import { storeContract } from '../unit/store/contract.js';
import { RedisCluster, startRedis } from '../helpers/redis-server.js';

const redisCfg = (over: Record<string, unknown>) => configSchema.parse({ redis: over }).redis;
const prefix = () => `t${randomBytes(4).toString('hex')}:`;

let single: Awaited<ReturnType<typeof startRedis>>;
let cluster: RedisCluster;

beforeAll(async () => {
  [single, cluster] = await Promise.all([startRedis(), RedisCluster.start()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([single?.stop(), cluster?.stop()]);
});

async function ready<T extends { ready(ms: number): Promise<boolean> }>(s: T): Promise<T> {
  if (!(await s.ready(10_000))) throw new Error('redis not ready');
  return s;
}

storeContract('redis (single server)', () => ready(createStores(redisCfg({ url: single.url, prefix: prefix(), commandTimeoutMs: 1000 }))));
storeContract('redis cluster (3 masters)', () =>
  ready(createStores(redisCfg({ cluster: cluster.addresses, prefix: prefix(), commandTimeoutMs: 1000 }))),
);

describe('redis commands per stage', () => {
  async function scriptCalls(r: Redis): Promise<number> {
    const stats = await r.info('commandstats');
    let n = 0;
    for (const m of stats.matchAll(/cmdstat_(evalsha|eval):calls=(\d+)/g)) n += Number(m[2]);
    return n;
  }

  it('sends the store calls of one tick (every check of a stage) as one script command', async () => {
    const stores = await ready(createRedisStores(redisCfg({ url: single.url, prefix: prefix(), commandTimeoutMs: 1000 }), {}));
    const admin = new Redis(single.url);
    try {
      const now = Date.now();
      const REP = { halfLifeMs: 86_400_000, ttlMs: 86_400_000 };
      const before = await scriptCalls(admin);
      // Connect (buckets + IP/network reputation) and the transaction's learning, at once.
      await Promise.all([
        stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 10 }, { key: 'net:192.0.2.0/24', ratePerSec: 1, burst: 10 }], now),
        stores.reputation.get([{ kind: 'ip', value: '192.0.2.1' }, { kind: 'net', value: '192.0.2.0/24' }], now, REP),
        stores.reputation.record([{ kind: 'helo', value: 'mx.example.org' }], { spam: 0, ham: 1, score: 0 }, now, REP),
        stores.history.push({ time: now, sessionId: 's', clientIp: '192.0.2.1', mailFrom: '', rcptTo: [], score: 0, action: 'accept', symbols: [] }),
      ]);
      expect((await scriptCalls(admin)) - before).toBe(1);
      // Calls in different ticks are different commands.
      await stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 10 }], now);
      await stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 10 }], now);
      expect((await scriptCalls(admin)) - before).toBe(3);
    } finally {
      await admin.quit();
      await stores.close();
    }
  });
});

describe('redis key hygiene', () => {
  it('puts a TTL on every key it writes except the documented Bayes hashes (SCAN, never KEYS)', async () => {
    const p = prefix();
    const stores = await ready(createRedisStores(redisCfg({ url: single.url, prefix: p, commandTimeoutMs: 1000 }), {}));
    const now = Date.now();
    const DAY = 86_400_000;
    await stores.reputation.record([{ kind: 'ip', value: '192.0.2.1' }], { spam: 1, ham: 0, score: 9 }, now, { halfLifeMs: DAY, ttlMs: 30 * DAY });
    await stores.greylist.check([{ net: '192.0.2.0/24', sender: 'a@example.org', rcpt: 'u@example.net' }], now, {
      delayMs: 0,
      retryWindowMs: 1000,
      passTtlMs: DAY,
      autoAllowAfter: 1,
      autoAllowTtlMs: DAY,
    });
    await stores.greylist.check([{ net: '192.0.2.0/24', sender: 'a@example.org', rcpt: 'u@example.net' }], now, {
      delayMs: 0,
      retryWindowMs: 1000,
      passTtlMs: DAY,
      autoAllowAfter: 1,
      autoAllowTtlMs: DAY,
    });
    await stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 10 }], now);
    await stores.history.push({ time: now, sessionId: 's', clientIp: '192.0.2.1', mailFrom: '', rcptTo: [], score: 0, action: 'accept', symbols: [] });
    await stores.bayes.incrementTokens(['tok'], { spam: 1, ham: 0 });
    const r = new Redis(single.url);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const ttls = Object.fromEntries(await Promise.all(keys.map(async (k) => [k.slice(p.length).replace(/\{.*\}.*/, '{…}'), await r.pttl(k)] as const)));
    await r.quit();
    await stores.close();
    expect(Object.keys(ttls).sort()).toEqual(['bayes:t:{…}', 'gl:{…}', 'hist', 'rep:ip:{…}', 'rl:{…}'].sort());
    for (const [k, ttl] of Object.entries(ttls)) {
      if (k.startsWith('bayes:')) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
    // Bucket TTL = full refill (10 s) + 1 s slack.
    expect(ttls['rl:{…}']).toBeLessThanOrEqual(11_000);
  });
});
