/**
 * `redis.sentinel`: the shared store contract through a real Sentinel, then a failover (master
 * killed): store calls fail open meanwhile and work again against the promoted replica.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configSchema } from '../../src/config/schema.js';
import { createStores } from '../../src/store/index.js';
import { StoreUnavailableError } from '../../src/store/stores-api.js';
import { storeContract } from '../unit/store/contract.js';
import { RedisSentinelGroup, rawCommand } from '../helpers/redis-server.js';

let group: RedisSentinelGroup;
beforeAll(async () => {
  group = await RedisSentinelGroup.start();
}, 30_000);
afterAll(async () => group?.stop());

const sentinelCfg = (prefix: string) =>
  configSchema.parse({
    redis: { sentinel: { nodes: [`127.0.0.1:${group.sentinelPort}`], name: RedisSentinelGroup.NAME }, prefix, commandTimeoutMs: 1000 },
  }).redis;

let n = 0;
storeContract('redis via sentinel', async () => {
  const s = createStores(sentinelCfg(`s${++n}:`));
  if (!(await s.ready(10_000))) throw new Error('not ready');
  return s;
});

describe('sentinel failover', () => {
  it('fails open while the master is down and follows the promoted replica', async () => {
    const stores = createStores({ ...sentinelCfg('fo:'), commandTimeoutMs: 100 });
    try {
      expect(await stores.ready(10_000)).toBe(true);
      expect(stores.backend).toBe('redis-sentinel');
      const now = Date.now();
      await stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 5 }], now);
      const oldPort = group.master.port;
      // The replica has the write before the master dies (WAIT numreplicas timeout).
      expect(await rawCommand(oldPort, 'WAIT 1 2000', 3000)).toBe(':1\r\n');
      await group.master.kill();
      await expect(stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 5 }], now)).rejects.toBeInstanceOf(StoreUnavailableError);
      await group.waitForFailover(oldPort);
      expect(await stores.ready(15_000)).toBe(true);
      const [r] = await stores.ratelimit.take([{ key: 'ip:192.0.2.1', ratePerSec: 1, burst: 5 }], now);
      // The replica had the bucket: the second take of the burst of 5 leaves 3.
      expect(r).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0 });
    } finally {
      await stores.close();
    }
  }, 30_000);
});
