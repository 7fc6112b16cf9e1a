/**
 * Per-check config slices of the Redis-backed checks (composed into `checks:` by checks.ts):
 * `checks.reputation`, `checks.greylist`, `checks.ratelimit`, `checks.history`.
 * Storage TTL defaults mirror src/store/keys.ts.
 */
import { z } from 'zod';
import { cidr } from '../types.js';

/** Loopback: never rate-limited, never given an IP/network reputation (see skipNetworks). */
const LOCAL_NETWORKS = ['127.0.0.0/8', '::1/128'];

export const reputationCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Half-life of the decayed counters: an outcome this old counts half (see src/reputation/math.ts). */
    halfLifeHours: z.number().positive().default(72),
    /** Entry dropped this long after its last update. */
    ttlDays: z.number().positive().default(30),
    /** Decayed volume at which confidence reaches 0.5 (confidence = n / (n + this)). */
    confidenceVolume: z.number().positive().default(20),
    /** No symbol below this decayed volume: a new sender stays neutral. */
    minVolume: z.number().nonnegative().default(3),
    /** No symbol while |spam−ham|/(spam+ham) is below this. */
    minBadness: z.number().min(0).max(1).default(0.2),
    /** Per stage; above redis.commandTimeoutMs so the store fails first and says why. */
    timeoutMs: z.number().int().positive().default(250),
    /**
     * Clients whose IP and network are not tracked: loopback by default (local tools, or a proxy
     * in front that does not pass the real client address — all mail would share one entry).
     */
    skipNetworks: z.array(cidr).default(LOCAL_NETWORKS),
  })
  .strict()
  .prefault({});

export const greylistCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** RFC 6647 §2.2; rspamd and postgrey use 5 min. */
    delaySeconds: z.number().int().nonnegative().default(300),
    retryWindowHours: z.number().positive().default(4),
    /** A passed triplet is remembered this long after its last use. */
    passDays: z.number().positive().default(30),
    /** After this many passed triplets, the client network + sender domain is allowed (0 = never). */
    autoAllowAfter: z.number().int().nonnegative().default(5),
    autoAllowDays: z.number().positive().default(30),
    /** Client networks never greylisted (e.g. big senders that retry from other pools). */
    skipNetworks: z.array(cidr).default([]),
    /** Skip when a REPUTATION_*_GOOD symbol fired. */
    skipGoodReputation: z.boolean().default(true),
    /** Skip DMARC-aligned mail (DMARC fact result pass). */
    skipDmarcPass: z.boolean().default(true),
  })
  .strict()
  .prefault({});

const bucket = z
  .object({
    /** Sustained rate; 0 disables this bucket. */
    perMinute: z.number().nonnegative(),
    /** Capacity: how many at once after a quiet period. */
    burst: z.number().positive(),
  })
  .strict();

const rcptBuckets = {
  /** Messages per recipient address. */
  rcpt: bucket.optional(),
  /** Messages per recipient domain (all recipients of one domain share it). */
  rcpt_domain: bucket.optional(),
};

export const ratelimitCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    timeoutMs: z.number().int().positive().default(250),
    /** Connections per client IP (over → `421 4.7.0` and close). */
    ip: bucket.default({ perMinute: 60, burst: 30 }),
    /** Connections per client /24 (/64). */
    net: bucket.default({ perMinute: 300, burst: 100 }),
    /** Messages per envelope sender. */
    sender: bucket.default({ perMinute: 60, burst: 60 }),
    /**
     * Messages per authenticated login (MAIL FROM `AUTH=` from an `upstream.trustAuthFrom` client;
     * absent on a plain MX). Applies to those clients even when they are in `skipNetworks` (the
     * limit is per login, not per client address).
     */
    auth: bucket.default({ perMinute: 30, burst: 30 }),
    rcpt: bucket.default({ perMinute: 60, burst: 60 }),
    rcpt_domain: bucket.default({ perMinute: 1000, burst: 1000 }),
    /** Clients never limited (loopback by default: local tools, health checks). */
    skipNetworks: z.array(cidr).default(LOCAL_NETWORKS),
    /** Recipient domain (lower-case) → its own rcpt/rcpt_domain limits. */
    domains: z.record(z.string().min(1), z.object(rcptBuckets).strict()).default({}),
  })
  .strict()
  .prefault({});

export const historyCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Newest entries kept (LTRIM bound). */
    maxEntries: z.number().int().positive().default(10_000),
    /** The list expires this long after the last verdict. */
    ttlDays: z.number().positive().default(30),
  })
  .strict()
  .prefault({});

export const storeCheckSections = {
  reputation: reputationCheckSchema,
  greylist: greylistCheckSchema,
  ratelimit: ratelimitCheckSchema,
  history: historyCheckSchema,
};

export type ReputationCheckConfig = z.infer<typeof reputationCheckSchema>;
export type GreylistCheckConfig = z.infer<typeof greylistCheckSchema>;
export type RatelimitCheckConfig = z.infer<typeof ratelimitCheckSchema>;
export type HistoryCheckConfig = z.infer<typeof historyCheckSchema>;
