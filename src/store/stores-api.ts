/**
 * Shared state behind interfaces, each with a Redis and an embedded in-memory implementation
 * (ARCHITECTURE "store/"). One shared contract test suite runs against both
 * (test/unit/store/contract.ts).
 *
 * Failure contract: every call either resolves within `redis.commandTimeoutMs` (+ a few ms) or
 * rejects with a {@link StoreUnavailableError}; it never hangs and never throws synchronously.
 * Callers (checks, modifiers, observers) turn that into a `*_UNAVAILABLE` symbol (fail open) or a
 * tempfail (`redis.failMode: closed`). Writes are fire-and-forget: callers do not await them on
 * the mail path; failures are counted in `spamgate_store_errors_total`.
 *
 * Time: every call that depends on time takes `now` (ms since epoch) from the caller, so checks
 * use an injectable clock and tests never sleep. Expiry logic is decided from stored timestamps
 * against `now`; Redis TTLs only garbage-collect.
 */

/** Store names = metric label `store`. */
export type StoreName = 'reputation' | 'greylist' | 'ratelimit' | 'history' | 'bayes';

/** A store call failed or ran past its deadline. */
export class StoreUnavailableError extends Error {
  readonly store: StoreName;
  readonly op: string;
  constructor(store: StoreName, op: string, cause?: unknown) {
    super(`${store} store unavailable (${op}): ${cause instanceof Error ? cause.message : String(cause ?? 'timeout')}`);
    this.name = 'StoreUnavailableError';
    this.store = store;
    this.op = op;
  }
}

// ───────────────────────────── reputation ─────────────────────────────

/** What a reputation entry is about. `net` = client /24 (IPv4) or /64 (IPv6). */
export type ReputationKind = 'ip' | 'net' | 'helo' | 'domain' | 'dkim';
export const REPUTATION_KINDS: readonly ReputationKind[] = ['ip', 'net', 'helo', 'domain', 'dkim'];

export interface ReputationKey {
  readonly kind: ReputationKind;
  /** Normalised value: IP text, `192.0.2.0/24`, lower-case HELO or domain. */
  readonly value: string;
}

/**
 * Time-decayed counters, as of the `now` of the call (see src/reputation/math.ts):
 * each stored value is multiplied by 2^(-Δt / halfLife) before use or update.
 */
export interface ReputationStats {
  /** Decayed count of spam outcomes. */
  readonly spam: number;
  /** Decayed count of ham outcomes. */
  readonly ham: number;
  /** Decayed count of all recorded transactions (spam + ham + in-between). */
  readonly total: number;
  /** Decayed sum of verdict scores (average score = scoreSum / total). */
  readonly scoreSum: number;
  /** Last update (ms since epoch); 0 = never seen. */
  readonly updated: number;
}

export const EMPTY_REPUTATION: ReputationStats = Object.freeze({ spam: 0, ham: 0, total: 0, scoreSum: 0, updated: 0 });

/** One observed transaction outcome. `spam`/`ham` are 0 or 1 (both 0 = undecided). */
export interface ReputationSample {
  readonly spam: number;
  readonly ham: number;
  readonly score: number;
}

export interface ReputationOptions {
  /** Half-life of the exponential decay. */
  readonly halfLifeMs: number;
  /** Entry kept this long after its last update. */
  readonly ttlMs: number;
}

export interface ReputationStore {
  /** Decayed stats for each key, in order; unknown keys get EMPTY_REPUTATION. One round trip. */
  get(keys: readonly ReputationKey[], now: number, opts: ReputationOptions): Promise<ReputationStats[]>;
  /** Decay-then-add `sample` to every key atomically per key. One round trip. */
  record(keys: readonly ReputationKey[], sample: ReputationSample, now: number, opts: ReputationOptions): Promise<void>;
  /** Admin override (`spamgate reputation set`). */
  set(key: ReputationKey, stats: ReputationStats, opts: ReputationOptions): Promise<void>;
  /** Admin removal (`spamgate reputation clear`), e.g. a false listing. */
  clear(key: ReputationKey): Promise<void>;
}

// ───────────────────────────── greylist ─────────────────────────────

export interface GreylistOptions {
  /** A retry is accepted only after this long (RFC 6647 §2.2; rspamd/postgrey: 5 min). */
  readonly delayMs: number;
  /** …and only within this window after the delay; later retries start over. */
  readonly retryWindowMs: number;
  /** A passed triplet stays passed this long after its last use. */
  readonly passTtlMs: number;
  /** After this many passed triplets from one network + sender domain, the pair is auto-allowed (0 = never). */
  readonly autoAllowAfter: number;
  /** Auto-allow lasts this long after the last pass. */
  readonly autoAllowTtlMs: number;
}

export interface GreylistTriplet {
  /** Client /24 (IPv4) or /64 (IPv6), e.g. `192.0.2.0/24`. */
  readonly net: string;
  /** Envelope sender, lower-case ('' for the null sender). */
  readonly sender: string;
  /** Recipient, lower-case. */
  readonly rcpt: string;
}

export type GreylistState =
  /** First sighting (or after the retry window lapsed): the triplet is now recorded. */
  | 'new'
  /** Retried before the delay was over. */
  | 'early'
  /** Retried within the window, or passed before (within passTtl). */
  | 'pass'
  /** Network + sender domain is auto-allowed after repeated passes. */
  | 'allowed';

export interface GreylistResult {
  readonly state: GreylistState;
  /** For new/early: ms until a retry would pass. */
  readonly retryInMs: number;
}

export interface GreylistStore {
  /** Look up and advance the triplet's state atomically (one Lua call per triplet, one round trip). */
  check(triplets: readonly GreylistTriplet[], now: number, opts: GreylistOptions): Promise<GreylistResult[]>;
}

// ───────────────────────────── rate limits ─────────────────────────────

export interface BucketSpec {
  /** Bucket identity, e.g. `ip:192.0.2.1` (see keys.ts). */
  readonly key: string;
  /** Refill rate in tokens per second. */
  readonly ratePerSec: number;
  /** Bucket capacity (the burst allowed after idling). */
  readonly burst: number;
}

export interface BucketResult {
  readonly allowed: boolean;
  /** Tokens left after this take (floored). */
  readonly remaining: number;
  /** When refused: ms until one token is available. */
  readonly retryAfterMs: number;
}

export interface RateLimitStore {
  /**
   * Take `cost` tokens from each bucket (atomically per bucket, Lua). A refused bucket takes
   * nothing. Buckets are independent (they may sit in different cluster slots): a caller that
   * wants all-or-nothing refunds the others with a negative `cost` (capped at the burst).
   */
  take(buckets: readonly BucketSpec[], now: number, cost?: number): Promise<BucketResult[]>;
  /** Forget a bucket (admin/tests). */
  reset(key: string): Promise<void>;
}

// ───────────────────────────── history ─────────────────────────────

/** One verdict as an admin wants to see it days later ("why was this message rejected?"). */
export interface HistoryEntry {
  /** ms since epoch. */
  readonly time: number;
  readonly sessionId: string;
  readonly clientIp: string;
  readonly helo?: string;
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  readonly subject?: string;
  readonly score: number;
  readonly action: string;
  readonly symbols: readonly { readonly name: string; readonly score: number; readonly options?: readonly string[] }[];
  /** Downstream answer (`250 …`) or the refusal text. */
  readonly outcome?: string;
  /** Set when the action was forced (allow/block list, rate limit…). */
  readonly forced?: string;
}

export interface HistoryBound {
  readonly maxEntries: number;
  readonly ttlMs: number;
}

export interface HistoryStore {
  /** Prepend; the list is trimmed to `bound.maxEntries` and its TTL renewed (defaults in keys.ts). */
  push(entry: HistoryEntry, bound?: HistoryBound): Promise<void>;
  /** Newest first. */
  list(limit: number): Promise<HistoryEntry[]>;
}

// ───────────────────────────── Bayes tokens ─────────────────────────────

export interface TokenCounts {
  readonly spam: number;
  readonly ham: number;
}

/** Token store for the Bayes classifier (learn/classify are the classifier's job, not this store's). */
export interface BayesTokenStore {
  /** Counts for each token, in order (0/0 for unknown). One round trip. */
  getTokens(tokens: readonly string[]): Promise<TokenCounts[]>;
  /** Add `delta` (may be negative for unlearn; counts never go below 0) to every token. */
  incrementTokens(tokens: readonly string[], delta: TokenCounts): Promise<void>;
  /** How many spam and ham messages were learned. */
  getLearned(): Promise<TokenCounts>;
  incrementLearned(delta: TokenCounts): Promise<void>;
}

// ───────────────────────────── all together ─────────────────────────────

export interface Stores {
  /** `memory` when redis.url, redis.cluster and redis.sentinel are all empty. */
  readonly backend: 'memory' | 'redis' | 'redis-cluster' | 'redis-sentinel';
  /** `redis.failMode`: open → *_UNAVAILABLE symbol; closed → tempfail. */
  readonly failMode: 'open' | 'closed';
  readonly reputation: ReputationStore;
  readonly greylist: GreylistStore;
  readonly ratelimit: RateLimitStore;
  readonly history: HistoryStore;
  readonly bayes: BayesTokenStore;
  /**
   * Resolves true once the backend answers (false after `timeoutMs`). Optional at boot: commands
   * before readiness simply fail open (no offline queue); tests await it.
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** Close connections (shutdown, tests). */
  close(): Promise<void>;
}
