/** `dns:` — the resolver every DNS-based check goes through. */
import { z } from 'zod';
import { hostPort } from '../types.js';

export const dnsSection = z
  .object({
    /** The ISP's own recursive resolvers; empty = the system's (/etc/resolv.conf). */
    servers: z.array(hostPort).default([]),
    /** Per-query deadline. */
    timeoutMs: z.number().int().positive().default(2000),
    /** Most lookups one message may cause (rspamd caps at 64). */
    maxQueriesPerMessage: z.number().int().positive().default(64),
    /** Entries in the in-process TTL cache. */
    cacheSize: z.number().int().nonnegative().default(50_000),
    /** Cap on how long any answer is cached, whatever its TTL says. */
    maxTtlSec: z.number().int().positive().default(86_400),
    /** Negative (NXDOMAIN/NODATA) caching when the answer carries no SOA (RFC 2308 §5 uses the SOA's). */
    negativeTtlSec: z.number().int().nonnegative().default(60),
    /** Cap on negative caching (RFC 2308 §5 suggests 1–3 h as a maximum; lists change fast, so less). */
    maxNegativeTtlSec: z.number().int().nonnegative().default(900),
    /** Retry truncated UDP answers over TCP (RFC 7766). */
    tcpFallback: z.boolean().default(true),
  })
  .strict()
  .prefault({});
