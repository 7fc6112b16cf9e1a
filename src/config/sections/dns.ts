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
  })
  .strict()
  .prefault({});
