/**
 * The embedded store: used when redis.url, redis.cluster and redis.sentinel are all empty (one
 * box, tests, the scan CLI). Same behaviour as the Redis store (shared contract suite), bounded in
 * size (BOUNDS.memoryEntries per store, oldest evicted) and expiring by the caller's clock.
 */
import { BoundedMap } from './bounded-map.js';
import { BOUNDS, TTL, domainOf, keysFor, tokenHash } from './keys.js';
import { addSample, decayed } from '../reputation/math.js';
import {
  EMPTY_REPUTATION,
  type BayesTokenStore,
  type BucketResult,
  type BucketSpec,
  type GreylistOptions,
  type GreylistResult,
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

const keys = keysFor('');

export class MemoryReputationStore implements ReputationStore {
  private readonly map: BoundedMap<ReputationStats>;
  constructor(maxEntries: number = BOUNDS.memoryEntries) {
    this.map = new BoundedMap(maxEntries);
  }
  async get(list: readonly ReputationKey[], now: number, opts: ReputationOptions): Promise<ReputationStats[]> {
    return list.map((k) => {
      const s = this.map.get(keys.reputation(k.kind, k.value), now);
      return s ? decayed(s, now, opts.halfLifeMs) : EMPTY_REPUTATION;
    });
  }
  async record(list: readonly ReputationKey[], x: ReputationSample, now: number, opts: ReputationOptions): Promise<void> {
    for (const k of list) {
      const id = keys.reputation(k.kind, k.value);
      const s = this.map.get(id, now) ?? EMPTY_REPUTATION;
      this.map.set(id, addSample(s, x, now, opts.halfLifeMs), now, opts.ttlMs);
    }
  }
  async set(k: ReputationKey, stats: ReputationStats, opts: ReputationOptions): Promise<void> {
    this.map.set(keys.reputation(k.kind, k.value), stats, stats.updated, opts.ttlMs);
  }
  async clear(k: ReputationKey): Promise<void> {
    this.map.delete(keys.reputation(k.kind, k.value));
  }
}

interface TripletState {
  first: number;
  passes: number;
  last: number;
}
interface AllowState {
  n: number;
  last: number;
}

/** Same state machine as GREYLIST_CHECK in redis-scripts.ts. */
export class MemoryGreylistStore implements GreylistStore {
  private readonly triplets: BoundedMap<TripletState>;
  private readonly allows: BoundedMap<AllowState>;
  constructor(maxEntries: number = BOUNDS.memoryEntries) {
    this.triplets = new BoundedMap(maxEntries);
    this.allows = new BoundedMap(maxEntries);
  }
  async check(list: readonly GreylistTriplet[], now: number, o: GreylistOptions): Promise<GreylistResult[]> {
    return list.map((tr) => this.one(tr, now, o));
  }
  private one(tr: GreylistTriplet, now: number, o: GreylistOptions): GreylistResult {
    const senderDomain = domainOf(tr.sender);
    const allowAfter = senderDomain ? o.autoAllowAfter : 0;
    const aKey = keys.greylistAllow(tr.net, senderDomain);
    if (allowAfter > 0) {
      const a = this.allows.get(aKey, now);
      if (a && a.n >= allowAfter && now - a.last < o.autoAllowTtlMs) return { state: 'allowed', retryInMs: 0 };
    }
    const tKey = keys.greylistTriplet(tr.net, tr.sender, tr.rcpt);
    const t = this.triplets.get(tKey, now);
    if (t && t.passes > 0 && now - t.last <= o.passTtlMs) {
      this.triplets.set(tKey, { first: t.first, passes: t.passes + 1, last: now }, now, o.passTtlMs);
      return { state: 'pass', retryInMs: 0 };
    }
    if (t && t.passes === 0 && now - t.first < o.delayMs) return { state: 'early', retryInMs: t.first + o.delayMs - now };
    if (t && t.passes === 0 && now - t.first <= o.delayMs + o.retryWindowMs) {
      this.triplets.set(tKey, { first: t.first, passes: 1, last: now }, now, o.passTtlMs);
      if (allowAfter > 0) {
        const a = this.allows.get(aKey, now);
        this.allows.set(aKey, { n: (a?.n ?? 0) + 1, last: now }, now, o.autoAllowTtlMs);
      }
      return { state: 'pass', retryInMs: 0 };
    }
    this.triplets.set(tKey, { first: now, passes: 0, last: now }, now, o.delayMs + o.retryWindowMs);
    return { state: 'new', retryInMs: o.delayMs };
  }
}

interface Bucket {
  k: number;
  t: number;
}

/** Same token bucket as TOKEN_BUCKET in redis-scripts.ts. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets: BoundedMap<Bucket>;
  constructor(maxEntries: number = BOUNDS.memoryEntries) {
    this.buckets = new BoundedMap(maxEntries);
  }
  async take(list: readonly BucketSpec[], now: number, cost = 1): Promise<BucketResult[]> {
    return list.map((b) => {
      const id = keys.bucket(b.key);
      const cur = this.buckets.get(id, now);
      let k = cur ? cur.k : b.burst;
      let t = cur ? cur.t : now;
      if (now > t) {
        k = Math.min(b.burst, k + ((now - t) / 1000) * b.ratePerSec);
        t = now;
      }
      let allowed = false;
      let retryAfterMs = 0;
      if (k >= cost) {
        k = Math.min(b.burst, k - cost);
        allowed = true;
      } else {
        retryAfterMs = Math.ceil(((cost - k) / b.ratePerSec) * 1000);
      }
      this.buckets.set(id, { k, t }, now, Math.ceil((b.burst / b.ratePerSec) * 1000) + TTL.bucketSlackMs);
      return { allowed, remaining: Math.floor(k), retryAfterMs };
    });
  }
  async reset(key: string): Promise<void> {
    this.buckets.delete(keys.bucket(key));
  }
}

export class MemoryHistoryStore implements HistoryStore {
  private entries: HistoryEntry[] = [];
  private expiresAt = Infinity;
  async push(entry: HistoryEntry, bound?: HistoryBound): Promise<void> {
    const max = bound?.maxEntries ?? BOUNDS.historyEntries;
    if (entry.time >= this.expiresAt) this.entries = [];
    this.entries.unshift(entry);
    if (this.entries.length > max) this.entries.length = max;
    this.expiresAt = entry.time + (bound?.ttlMs ?? TTL.historyMs);
  }
  async list(limit: number): Promise<HistoryEntry[]> {
    return this.entries.slice(0, Math.max(0, limit));
  }
}

export class MemoryBayesStore implements BayesTokenStore {
  private readonly tokens: BoundedMap<{ s: number; h: number }>;
  private learned = { spam: 0, ham: 0 };
  constructor(maxEntries: number = BOUNDS.memoryEntries * 5) {
    this.tokens = new BoundedMap(maxEntries);
  }
  async getTokens(list: readonly string[]): Promise<TokenCounts[]> {
    return list.map((t) => {
      const c = this.tokens.get(tokenHash(t), 0);
      return { spam: c?.s ?? 0, ham: c?.h ?? 0 };
    });
  }
  async incrementTokens(list: readonly string[], d: TokenCounts): Promise<void> {
    for (const t of new Set(list)) {
      const id = tokenHash(t);
      const c = this.tokens.get(id, 0);
      const s = Math.max(0, (c?.s ?? 0) + d.spam);
      const h = Math.max(0, (c?.h ?? 0) + d.ham);
      if (s === 0 && h === 0) this.tokens.delete(id);
      else this.tokens.set(id, { s, h }, 0, Infinity);
    }
  }
  async getLearned(): Promise<TokenCounts> {
    return { ...this.learned };
  }
  async incrementLearned(d: TokenCounts): Promise<void> {
    this.learned = { spam: Math.max(0, this.learned.spam + d.spam), ham: Math.max(0, this.learned.ham + d.ham) };
  }
}

export function createMemoryStores(opts: { failMode?: 'open' | 'closed' } = {}): Stores {
  return {
    backend: 'memory',
    failMode: opts.failMode ?? 'open',
    reputation: new MemoryReputationStore(),
    greylist: new MemoryGreylistStore(),
    ratelimit: new MemoryRateLimitStore(),
    history: new MemoryHistoryStore(),
    bayes: new MemoryBayesStore(),
    ready: async () => true,
    close: async () => {},
  };
}
