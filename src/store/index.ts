/**
 * Stores entry point: `createStores(config.redis, {metrics, log})` picks the embedded store when
 * redis.url, redis.cluster and redis.sentinel are all empty, else Redis (single/Cluster/Sentinel).
 */
import type { Config } from '../config/schema.js';
import type { StoreDeps } from './guard.js';
import { createMemoryStores } from './memory.js';
import { createRedisStores } from './redis.js';
import { redisBackend } from './redis-client.js';
import type { Stores } from './stores-api.js';

export * from './stores-api.js';
export { createMemoryStores } from './memory.js';
export { createRedisStores } from './redis.js';

export function createStores(cfg: Config['redis'], deps: StoreDeps = {}): Stores {
  if (redisBackend(cfg) === 'memory') return createMemoryStores({ failMode: cfg.failMode });
  return createRedisStores(cfg, deps);
}
