/**
 * One ioredis client per process (never per SMTP connection), configured to fail open, fast
 * (FIELD-NOTES §7): no offline queue and no per-request retries, so a command while Redis is down
 * fails at once; StoreGuard's deadline (and, as a backstop, `commandTimeout`) bounds a stalled Redis
 * (DEBUG SLEEP, SIGSTOP); reconnection is
 * automatic with a capped back-off.
 *
 * RESP3: ioredis 6 sends `HELLO 3` by default (falling back to RESP2 on Redis < 6). With the
 * default `replyMapping: "legacy"` replies keep their RESP2 shapes (HMGET arrays, Lua tables as
 * arrays, numbers truncated to integers by Redis), which is what the scripts here rely on, so
 * RESP3 changes nothing for us except one extra command at connect. We pin `protocol: 3` and
 * `replyMapping: 'legacy'` explicitly so a future default change cannot alter reply shapes.
 *
 * Batching: the per-message store work of one tick is one `sgOps` script call (redis-batch.ts), so
 * one command and one round trip per SMTP stage. Other commands are auto-pipelined (single server
 * and Sentinel). In a Cluster, calls go out at once to their nodes in parallel (auto-pipelining is
 * off there, see below).
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { toHostPort } from '../config/types.js';
import { BAYES_INCR, STORE_OPS } from './redis-scripts.js';

export type RedisCfg = Config['redis'];
export type AnyRedis = Redis | Cluster;

/**
 * Our Lua commands, as defineCommand adds them (EVALSHA, EVAL on NOSCRIPT). `sgOps` has no fixed
 * key count: its first argument is the key count (redis-batch.ts builds it).
 */
export interface ScriptCommands {
  sgOps(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown[]>;
  sgBayesIncr(key: string, dSpam: number, dHam: number, ...ids: string[]): Promise<number>;
}

export type ScriptedRedis = AnyRedis & ScriptCommands;

export function redisBackend(cfg: RedisCfg): 'memory' | 'redis' | 'redis-cluster' | 'redis-sentinel' {
  if (cfg.cluster.length) return 'redis-cluster';
  if (cfg.sentinel) return 'redis-sentinel';
  if (cfg.url) return 'redis';
  return 'memory';
}

const retryStrategy = (attempt: number): number => Math.min(200 * attempt, 2000);

/** Cluster node options: the cluster owns the offline queue and the reconnect strategy. */
function clusterNodeOptions(o: RedisOptions) {
  const { retryStrategy: _r, enableOfflineQueue: _q, ...rest } = o;
  return rest;
}

export function createRedisClient(cfg: RedisCfg, log?: Logger): ScriptedRedis {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Only a backstop that frees a command stuck in ioredis' queue (stalled Redis): the deadline
    // SMTP stages see is StoreGuard's, which lets a reply already in the socket be read before
    // it gives up (guard.ts). ioredis' own timer would fire first and cannot do that.
    commandTimeout: cfg.commandTimeoutMs * 2 + 1000,
    connectTimeout: 2000,
    retryStrategy,
    enableAutoPipelining: true,
    // sgOps is already one batch per tick (redis-batch.ts): send it at once, without a Pipeline
    // object and a setImmediate hop. Other commands (admin, Bayes reads) stay auto-pipelined.
    autoPipeliningIgnoredCommands: ['sgOps'],
    protocol: 3,
    replyMapping: 'legacy',
  };
  let client: AnyRedis;
  const backend = redisBackend(cfg);
  if (backend === 'redis-cluster') {
    client = new Cluster(
      cfg.cluster.map((n) => toHostPort(n)),
      {
        redisOptions: clusterNodeOptions(common),
        enableOfflineQueue: false,
        // Not in Cluster mode: ioredis batches per node and handles MOVED per batch, so after a
        // topology change (a master rejoining) commands keep failing with MOVED (ioredis #2075,
        // reproduced in test/integration/redis-cluster-failure.test.ts). Commands of one stage are
        // still sent at once, to each node in parallel: one round trip of latency.
        enableAutoPipelining: false,
        clusterRetryStrategy: retryStrategy,
        // A moved slot after failover is retried once quickly; the store deadline bounds the rest.
        retryDelayOnFailover: 50,
        retryDelayOnClusterDown: 50,
        retryDelayOnTryAgain: 50,
        maxRedirections: 4,
        slotsRefreshTimeout: 1000,
      },
    );
  } else if (backend === 'redis-sentinel') {
    client = new Redis({ ...common, sentinels: cfg.sentinel!.nodes.map((n) => toHostPort(n)), name: cfg.sentinel!.name });
  } else {
    client = new Redis(cfg.url, common);
  }
  // Without a listener an 'error' event crashes the process (FIELD-NOTES §7).
  let lastLog = 0;
  client.on('error', (e: Error) => {
    const now = Date.now();
    if (now - lastLog > 5000) {
      lastLog = now;
      log?.warn({ err: e.message, backend }, 'redis connection error');
    }
  });
  if (client instanceof Cluster) client.on('node error', () => {});
  client.defineCommand('sgOps', { lua: STORE_OPS });
  client.defineCommand('sgBayesIncr', { numberOfKeys: 1, lua: BAYES_INCR });
  return client as ScriptedRedis;
}
