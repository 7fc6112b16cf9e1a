/**
 * Every Redis key spamgate writes, its prefix and its TTL, in one place (BullMQ habit; rspamd
 * layouts in FIELD-NOTES §7). `prefix` is `redis.prefix` (default `sg:`), so deployments can share
 * one Redis. Never `KEYS`: nothing here needs enumeration.
 *
 * Hash tags: a key part in `{…}` decides the Redis Cluster slot. Keys that must change together
 * (the greylist triplet + its auto-allow counter) put the client network in the tag so both keys
 * sit in one slot. Single-key entries tag their own identity, which spreads them evenly; a script
 * call over several of them is split by tag in a Cluster (redis.ts, redis-batch.ts). The prefix
 * must not contain braces (checked in config/sections/redis.ts), so our tag is always the first.
 *
 * | key                                   | type   | bound                                                   |
 * |---------------------------------------|--------|---------------------------------------------------------|
 * | `<p>rep:<kind>:{<value>}`              | hash   | TTL `reputation.ttl` (30 d) after the last update       |
 * | `<p>gl:{<net>}:t:<sender>\|<rcpt>`      | hash   | TTL delay+window while pending; `passTtl` (30 d) after a pass |
 * | `<p>gl:{<net>}:a:<senderdomain>`       | hash   | TTL `autoAllowTtl` (30 d) after the last pass           |
 * | `<p>rl:{<kind>:<value>}`               | hash   | TTL = time to refill the bucket completely (+1 s)       |
 * | `<p>hist`                             | list   | LTRIM to `history.maxEntries`; TTL `history.ttl` (30 d) |
 * | `<p>bayes:t:{<bucket>}`               | hash   | 65 536 buckets; fields = learned tokens (no TTL: learned data; bound by `maxmemory` + `volatile-ttl` on a dedicated instance, FIELD-NOTES §7) |
 * | `<p>bayes:learned`                    | hash   | 2 fields, no TTL                                        |
 */
import { createHash } from 'node:crypto';
import type { ReputationKind } from './stores-api.js';

const DAY = 86_400_000;

/** Defaults for every TTL and bound (config may override the ones marked so in checks.ts). */
export const TTL = {
  /** Reputation entry lifetime after its last update (config: checks.reputation.ttlDays). */
  reputationMs: 30 * DAY,
  /** Greylist: RFC 6647 §2.2 suggests 1–5 min; rspamd, postgrey 5 min (config: checks.greylist.delaySeconds). */
  greylistDelayMs: 5 * 60_000,
  /** Retry window after the delay (config: checks.greylist.retryWindowHours). */
  greylistRetryWindowMs: 4 * 3_600_000,
  /** Passed triplet lifetime after its last use (config: checks.greylist.passDays). */
  greylistPassMs: 30 * DAY,
  /** Auto-allow lifetime after the last pass (config: checks.greylist.autoAllowDays). */
  greylistAutoAllowMs: 30 * DAY,
  /** History list lifetime after the last push (config: checks.history.ttlDays). */
  historyMs: 30 * DAY,
  /** Extra life for a rate-limit bucket beyond its full-refill time. */
  bucketSlackMs: 1_000,
} as const;

export const BOUNDS = {
  /** History entries kept (config: checks.history.maxEntries). */
  historyEntries: 10_000,
  /** Bayes token buckets in Redis. */
  bayesBuckets: 65_536,
  /** Entries per kind in the embedded store (oldest evicted first). */
  memoryEntries: 200_000,
  /** Longest value kept verbatim in a key; longer ones are hashed (HELO and domains are attacker-chosen). */
  keyValueChars: 200,
} as const;

/** Attacker-controlled text becomes a bounded key part; braces would move the cluster slot. */
export function keyPart(value: string): string {
  const v = value.toLowerCase();
  if (v.length <= BOUNDS.keyValueChars && !/[{}\s]/.test(v)) return v;
  return 'h:' + createHash('sha1').update(v).digest('hex');
}

export function keysFor(prefix: string) {
  return {
    reputation: (kind: ReputationKind, value: string) => `${prefix}rep:${kind}:{${keyPart(value)}}`,
    greylistTriplet: (net: string, sender: string, rcpt: string) =>
      `${prefix}gl:{${net}}:t:${keyPart(`${sender}|${rcpt}`)}`,
    greylistAllow: (net: string, senderDomain: string) => `${prefix}gl:{${net}}:a:${keyPart(senderDomain)}`,
    bucket: (id: string) => `${prefix}rl:{${keyPart(id)}}`,
    history: () => `${prefix}hist`,
    bayesBucket: (token: string) => `${prefix}bayes:t:{${bayesBucketOf(token)}}`,
    bayesLearned: () => `${prefix}bayes:learned`,
  };
}

export type Keys = ReturnType<typeof keysFor>;

/** Bucket number and field name of a Bayes token (64-bit hash, as rspamd's token ids). */
export function bayesBucketOf(token: string): string {
  return tokenHash(token).slice(0, 4);
}
export function tokenHash(token: string): string {
  return createHash('sha1').update(token).digest('hex').slice(0, 16);
}

/** Domain part of an address, lower-case; '' for the null sender. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}
