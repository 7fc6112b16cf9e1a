/**
 * The Redis stores (single server, Cluster or Sentinel — see redis-client.ts). Every call goes
 * through StoreGuard (deadline, metrics, StoreUnavailableError) and is one operation over all the
 * keys of the call (all buckets of a stage, all reputation entries of a transaction, all
 * recipients' greylist triplets); the operations of one tick — all checks of an SMTP stage — are
 * one `sgOps` script call (redis-batch.ts): one command, one round trip per stage. In a Cluster,
 * keys are split by hash tag first, and each tag group is one operation (a script must stay in
 * one slot).
 */
import { BOUNDS, TTL, domainOf, keysFor, tokenHash, type Keys } from './keys.js';
import { StoreGuard, type StoreDeps } from './guard.js';
import { createRedisClient, redisBackend, type RedisCfg, type ScriptedRedis } from './redis-client.js';
import { OpBatcher, hashTagOf } from './redis-batch.js';
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
  /** Redis Cluster: a multi-key script must stay in one slot (keys grouped by hash tag). */
  readonly cluster: boolean;
  readonly ops: OpBatcher;
}

/**
 * Indexes of `keys` grouped so that each group can be one script operation: all of them on a
 * single server or Sentinel (no slots), by hash tag in a Cluster (same tag → same slot).
 */
function slotGroups(keys: readonly string[], cluster: boolean): number[][] {
  const all = keys.map((_, i) => i);
  if (!cluster || keys.length < 2) return [all];
  const by = new Map<string, number[]>();
  for (const i of all) {
    const tag = hashTagOf(keys[i]!);
    const g = by.get(tag);
    if (g) g.push(i);
    else by.set(tag, [i]);
  }
  return [...by.values()];
}

/** The keys at indexes `g` (all of them, as is, when the group is the whole call). */
function pick(keys: readonly string[], g: readonly number[]): readonly string[] {
  return g.length === keys.length ? keys : g.map((i) => keys[i]!);
}

/** A Lua nil inside a returned table arrives as null (RESP2 mapping) or false (RESP3 boolean). */
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

const NO_ARGS: readonly (string | number)[] = [];

function num(v: string | null | undefined): number {
  const n = v == null ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export class RedisReputationStore implements ReputationStore {
  constructor(private readonly c: Ctx) {}
  get(list: readonly ReputationKey[], now: number, opts: ReputationOptions): Promise<ReputationStats[]> {
    return this.c.g.call('reputation', 'get', async () => {
      if (list.length === 0) return [];
      const keys = list.map((k) => this.c.k.reputation(k.kind, k.value));
      const rows: (readonly unknown[])[] = new Array(keys.length);
      await Promise.all(
        slotGroups(keys, this.c.cluster).map(async (g) => {
          const got = await this.c.ops.run<unknown[][]>('rg', pick(keys, g), NO_ARGS);
          g.forEach((i, j) => (rows[i] = got[j] ?? []));
        }),
      );
      return rows.map((v) => {
        const t = str(v[4]);
        if (t === undefined) return EMPTY_REPUTATION;
        const s: ReputationStats = { spam: num(str(v[0])), ham: num(str(v[1])), total: num(str(v[2])), scoreSum: num(str(v[3])), updated: num(t) };
        return decayed(s, now, opts.halfLifeMs);
      });
    });
  }
  record(list: readonly ReputationKey[], x: ReputationSample, now: number, opts: ReputationOptions): Promise<void> {
    return this.c.g.call('reputation', 'record', async () => {
      if (list.length === 0) return;
      const keys = list.map((k) => this.c.k.reputation(k.kind, k.value));
      const args = [now, opts.halfLifeMs, Math.ceil(opts.ttlMs), x.spam, x.ham, x.score];
      await Promise.all(slotGroups(keys, this.c.cluster).map((g) => this.c.ops.run('rr', pick(keys, g), args)));
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
      if (list.length === 0) return [];
      const out: GreylistResult[] = new Array(list.length);
      // Triplet and auto-allow keys share the {net} tag: one group per client network.
      const tKeys = list.map((t) => this.c.k.greylistTriplet(t.net, t.sender, t.rcpt));
      await Promise.all(
        slotGroups(tKeys, this.c.cluster).map(async (g) => {
          const keys: string[] = [];
          const after: number[] = [];
          for (const i of g) {
            const t = list[i]!;
            const dom = domainOf(t.sender);
            keys.push(tKeys[i]!, this.c.k.greylistAllow(t.net, dom));
            after.push(dom ? o.autoAllowAfter : 0);
          }
          const flat = await this.c.ops.run<number[]>('gl', keys, [now, o.delayMs, o.retryWindowMs, o.passTtlMs, o.autoAllowTtlMs, ...after]);
          g.forEach((i, j) => {
            out[i] = { state: GREYLIST_STATES[Number(flat[2 * j])] ?? 'new', retryInMs: Number(flat[2 * j + 1]) };
          });
        }),
      );
      return out;
    });
  }
}

export class RedisRateLimitStore implements RateLimitStore {
  constructor(private readonly c: Ctx) {}
  take(list: readonly BucketSpec[], now: number, cost = 1): Promise<BucketResult[]> {
    return this.c.g.call('ratelimit', 'take', async () => {
      if (list.length === 0) return [];
      const out: BucketResult[] = new Array(list.length);
      const keys = list.map((b) => this.c.k.bucket(b.key));
      await Promise.all(
        slotGroups(keys, this.c.cluster).map(async (g) => {
          const args: (string | number)[] = [now, cost, TTL.bucketSlackMs];
          for (const i of g) args.push(list[i]!.ratePerSec, list[i]!.burst);
          const flat = await this.c.ops.run<number[]>('tb', pick(keys, g), args);
          g.forEach((i, j) => {
            out[i] = { allowed: Number(flat[3 * j]) === 1, remaining: Number(flat[3 * j + 1]), retryAfterMs: Number(flat[3 * j + 2]) };
          });
        }),
      );
      return out;
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
      const max = bound?.maxEntries ?? BOUNDS.historyEntries;
      await this.c.ops.run('hp', [this.c.k.history()], [JSON.stringify(entry), max, Math.ceil(bound?.ttlMs ?? TTL.historyMs)]);
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
  const cluster = redisBackend(cfg) === 'redis-cluster';
  const c: Ctx = { r, k: keysFor(cfg.prefix), g: new StoreGuard(cfg.commandTimeoutMs, deps), cluster, ops: new OpBatcher(r, cluster) };
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
