/**
 * Redis Cluster with a master killed: store calls fail fast with StoreUnavailableError (nothing
 * hangs, the check would emit *_UNAVAILABLE), and work again once the node is back.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { configSchema } from '../../src/config/schema.js';
import { createStores } from '../../src/store/index.js';
import { StoreUnavailableError } from '../../src/store/stores-api.js';
import { RedisCluster, rawCommand } from '../helpers/redis-server.js';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 30_000);
afterAll(async () => cluster?.stop());

it('fails fast while a master is down and recovers when it rejoins', async () => {
  const cfg = configSchema.parse({ redis: { cluster: cluster.addresses, prefix: 'cf:', commandTimeoutMs: 100 } }).redis;
  const stores = createStores(cfg);
  try {
    expect(await stores.ready(10_000)).toBe(true);
    expect(stores.backend).toBe('redis-cluster');
    // Buckets spread over all three masters' slots.
    const buckets = Array.from({ length: 30 }, (_, i) => ({ key: `ip:192.0.2.${i}`, ratePerSec: 1, burst: 10 }));
    const now = Date.now();
    expect((await stores.ratelimit.take(buckets, now)).every((r) => r.allowed)).toBe(true);

    const victim = cluster.nodes[0]!;
    await victim.kill();
    for (let i = 0; i < 3; i++) await expect(stores.ratelimit.take(buckets, now)).rejects.toBeInstanceOf(StoreUnavailableError);

    await victim.restart();
    for (const n of cluster.nodes) {
      for (let t = 0; t < 200 && !(await rawCommand(n.port, 'CLUSTER INFO')).includes('cluster_state:ok'); t++) await new Promise((r) => setTimeout(r, 50));
    }
    expect(await stores.ready(15_000)).toBe(true);
    let ok = false;
    for (let t = 0; t < 100 && !ok; t++) {
      try {
        ok = (await stores.ratelimit.take(buckets, now)).length === 30;
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // slot map refresh after the rejoin
      }
    }
    expect(ok).toBe(true);
  } finally {
    await stores.close();
  }
}, 30_000);
