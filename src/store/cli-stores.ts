/**
 * Stores for admin commands (`spamgate reputation`, `spamgate history`): the configured Redis,
 * waited for briefly. The embedded store lives inside the daemon process, so a separate command
 * cannot see it: say so instead of showing an empty store.
 */
import { loadConfig, resolveConfigPath } from '../config/loader.js';
import type { Config } from '../config/schema.js';
import { createStores } from './index.js';
import { redisBackend } from './redis-client.js';
import type { Stores } from './stores-api.js';

export class AdminStoreError extends Error {}

export async function withAdminStores<T>(configFile: string | undefined, fn: (stores: Stores, config: Config) => Promise<T>): Promise<T> {
  const { config } = loadConfig(resolveConfigPath(configFile));
  if (redisBackend(config.redis) === 'memory') {
    throw new AdminStoreError('redis is not configured (redis.url, redis.cluster, redis.sentinel are empty): the embedded store lives inside the running daemon only');
  }
  // Admin commands may wait longer than the mail path.
  const stores = createStores({ ...config.redis, commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, 2000) });
  try {
    if (!(await stores.ready(3000))) throw new AdminStoreError(`redis (${config.redis.url || config.redis.cluster.join(',') || 'sentinel'}) is not reachable`);
    return await fn(stores, config);
  } finally {
    await stores.close();
  }
}
