/**
 * The Redis stores (single server, Cluster or Sentinel — see redis-client.ts). Every call goes
 * through StoreGuard (deadline, metrics, StoreUnavailableError). Commands of one call are issued
 * in the same tick and auto-pipelined: one round trip per call.
 */
import { BOUNDS, TTL, domainOf, keysFor, tokenHash, type Keys } from './keys.js';
import { StoreGuard, type StoreDeps } from './guard.js';
import { createRedisClient, redisBackend, type RedisCfg, type ScriptedRedis } from './redis-client.js';
import { decayed } from '../reputation/math.js';
import {
  EMPTY_REPUTATION,
  type BayesTokenStore,
  type BucketResult,
  type BucketSpec,
  type GreylistOptions,
  type GreylistResult,
  type GreylistState,
  type GreylistStore,
  type GreylistTriplet,
  type HistoryBound,
  type HistoryEntry,
  type HistoryStore,
  type RateLimitStore,
  type ReputationKey,
  type ReputationOptions,
  type ReputationSample,
  type ReputationStats,
  type ReputationStore,
  type Stores,
  type TokenCounts,
} from './stores-api.js';

interface Ctx {
  readonly r: ScriptedRedis;
  readonly k: Keys;
  readonly g: StoreGuard;
}

function num(v: string | null | undefined): number {
  const n = v == null ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export class RedisReputationStore implements ReputationStore {
  constructor(private readonly c: Ctx) {}
  get(list: readonly ReputationKey[], now: number, opts: ReputationOptions): Promise<ReputationStats[]> {
    return this.c.g.call('reputation', 'get', async () => {
      const rows = await Promise.all(list.map((k) => this.c.r.hmget(this.c.k.reputation(k.kind, k.value), 's', 'h', 'n', 'c', 't')));
      return rows.map((v) => {
        if (v[4] == null) return EMPTY_REPUTATION;
        const s: ReputationStats = { spam: num(v[0]), ham: num(v[1]), total: num(v[2]), scoreSum: num(v[3]), updated: num(v[4]) };
        return decayed(s, now, opts.halfLifeMs);
      });
    });
  }
  record(list: readonly ReputationKey[], x: ReputationSample, now: number, opts: ReputationOptions): Promise<void> {
    return this.c.g.call('reputation', 'record', async () => {
      await Promise.all(
        list.map((k) => this.c.r.sgRepRecord(this.c.k.reputation(k.kind, k.value), now, opts.halfLifeMs, Math.ceil(opts.ttlMs), x.spam, x.ham, x.score)),
      );
    });
  }
  set(k: ReputationKey, s: ReputationStats, opts: ReputationOptions): Promise<void> {
    return this.c.g.call('reputation', 'set', async () => {
      const key = this.c.k.reputation(k.kind, k.value);
      await Promise.all([
        this.c.r.hset(key, { s: String(s.spam), h: String(s.ham), n: String(s.total), c: String(s.scoreSum), t: String(s.updated) }),
        this.c.r.pexpire(key, Math.ceil(opts.ttlMs)),
      ]);
    });
  }
  clear(k: ReputationKey): Promise<void> {
    return this.c.g.call('reputation', 'clear', async () => {
      await this.c.r.del(this.c.k.reputation(k.kind, k.value));
    });
  }
}

const GREYLIST_STATES: readonly GreylistState[] = ['new', 'early', 'pass', 'allowed'];

export class RedisGreylistStore implements GreylistStore {
  constructor(private readonly c: Ctx) {}
  check(list: readonly GreylistTriplet[], now: number, o: GreylistOptions): Promise<GreylistResult[]> {
    return this.c.g.call('greylist', 'check', async () => {
      const rows = await Promise.all(
        list.map((t) => {
          const dom = domainOf(t.sender);
          return this.c.r.sgGreylist(
            this.c.k.greylistTriplet(t.net, t.sender, t.rcpt),
            this.c.k.greylistAllow(t.net, dom),
            now,
            o.delayMs,
            o.retryWindowMs,
            o.passTtlMs,
            dom ? o.autoAllowAfter : 0,
            o.autoAllowTtlMs,
          );
        }),
      );
      return rows.map(([state, retry]) => ({ state: GREYLIST_STATES[Number(state)] ?? 'new', retryInMs: Number(retry) }));
    });
  }
}

export class RedisRateLimitStore implements RateLimitStore {
  constructor(private readonly c: Ctx) {}
  take(list: readonly BucketSpec[], now: number, cost = 1): Promise<BucketResult[]> {
    return this.c.g.call('ratelimit', 'take', async () => {
      const rows = await Promise.all(
        list.map((b) => this.c.r.sgBucket(this.c.k.bucket(b.key), now, b.ratePerSec, b.burst, cost, TTL.bucketSlackMs)),
      );
      return rows.map(([ok, rem, retry]) => ({ allowed: Number(ok) === 1, remaining: Number(rem), retryAfterMs: Number(retry) }));
    });
  }
  reset(key: string): Promise<void> {
    return this.c.g.call('ratelimit', 'reset', async () => {
      await this.c.r.del(this.c.k.bucket(key));
    });
  }
}

export class RedisHistoryStore implements HistoryStore {
  constructor(private readonly c: Ctx) {}
  push(entry: HistoryEntry, bound?: HistoryBound): Promise<void> {
    return this.c.g.call('history', 'push', async () => {
      const key = this.c.k.history();
      const max = bound?.maxEntries ?? BOUNDS.historyEntries;
      await Promise.all([
        this.c.r.lpush(key, JSON.stringify(entry)),
        this.c.r.ltrim(key, 0, max - 1),
        this.c.r.pexpire(key, Math.ceil(bound?.ttlMs ?? TTL.historyMs)),
      ]);
    });
  }
  list(limit: number): Promise<HistoryEntry[]> {
    return this.c.g.call('history', 'list', async () => {
      if (limit <= 0) return [];
      const rows = await this.c.r.lrange(this.c.k.history(), 0, limit - 1);
      const out: HistoryEntry[] = [];
      for (const row of rows) {
        try {
          out.push(JSON.parse(row) as HistoryEntry);
        } catch {
          // A foreign or truncated entry: skip it rather than fail the listing.
        }
      }
      return out;
    });
  }
}

export class RedisBayesStore implements BayesTokenStore {
  constructor(private readonly c: Ctx) {}
  getTokens(list: readonly string[]): Promise<TokenCounts[]> {
    return this.c.g.call('bayes', 'get', async () => {
      const groups = groupByBucket(list, this.c.k);
      const replies = await Promise.all(
        [...groups].map(([key, ids]) => this.c.r.hmget(key, ...ids.flatMap((id) => [`${id}:s`, `${id}:h`]))),
      );
      const counts = new Map<string, TokenCounts>();
      [...groups.values()].forEach((ids, gi) => {
        const row = replies[gi]!;
        ids.forEach((id, i) => counts.set(id, { spam: num(row[2 * i]), ham: num(row[2 * i + 1]) }));
      });
      return list.map((t) => counts.get(tokenHash(t)) ?? { spam: 0, ham: 0 });
    });
  }
  incrementTokens(list: readonly string[], d: TokenCounts): Promise<void> {
    return this.c.g.call('bayes', 'increment', async () => {
      const groups = groupByBucket(list, this.c.k);
      await Promise.all([...groups].map(([key, ids]) => this.c.r.sgBayesIncr(key, d.spam, d.ham, ...ids)));
    });
  }
  getLearned(): Promise<TokenCounts> {
    return this.c.g.call('bayes', 'learned', async () => {
      const [s, h] = await this.c.r.hmget(this.c.k.bayesLearned(), 'spam', 'ham');
      return { spam: num(s), ham: num(h) };
    });
  }
  incrementLearned(d: TokenCounts): Promise<void> {
    return this.c.g.call('bayes', 'learn', async () => {
      const key = this.c.k.bayesLearned();
      await Promise.all([this.c.r.hincrby(key, 'spam', d.spam), this.c.r.hincrby(key, 'ham', d.ham)]);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms).unref());
}

/** Ready = connected and answering PING (a Cluster also needs its slot map). */
async function waitReady(r: ScriptedRedis, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (r.status === 'ready') {
      try {
        await r.ping();
        return true;
      } catch {
        // not yet
      }
    }
    await sleep(25);
  }
  return false;
}

/** Unique token ids grouped by their bucket key. */
function groupByBucket(list: readonly string[], k: Keys): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const t of list) {
    const id = tokenHash(t);
    if (seen.has(id)) continue;
    seen.add(id);
    const key = k.bayesBucket(t);
    const g = groups.get(key);
    if (g) g.push(id);
    else groups.set(key, [id]);
  }
  return groups;
}

export function createRedisStores(cfg: RedisCfg, deps: StoreDeps): Stores & { readonly client: ScriptedRedis } {
  const r = createRedisClient(cfg, deps.log);
  const c: Ctx = { r, k: keysFor(cfg.prefix), g: new StoreGuard(cfg.commandTimeoutMs, deps) };
  return {
    backend: redisBackend(cfg) as Stores['backend'],
    failMode: cfg.failMode,
    client: r,
    reputation: new RedisReputationStore(c),
    greylist: new RedisGreylistStore(c),
    ratelimit: new RedisRateLimitStore(c),
    history: new RedisHistoryStore(c),
    bayes: new RedisBayesStore(c),
    ready: async (timeoutMs) => {
      const ok = await waitReady(r, timeoutMs);
      if (ok) c.g.reset();
      return ok;
    },
    close: async () => {
      // QUIT when connected (flushes replies); never wait long for a dead server.
      if (r.status === 'ready') await Promise.race([r.quit().catch(() => undefined), sleep(500)]);
      r.disconnect();
    },
  };
}
