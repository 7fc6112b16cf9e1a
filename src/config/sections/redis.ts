/** `redis:` — shared state; empty url and no cluster/sentinel = embedded in-memory store. */
import { z } from 'zod';
import { hostPort } from '../types.js';

export const redisSection = z
  .object({
    url: z.string().default(''),
    cluster: z.array(hostPort).default([]),
    sentinel: z
      .object({ nodes: z.array(hostPort).min(1), name: z.string().min(1) })
      .strict()
      .optional(),
    /** Key prefix so several deployments can share one Redis. */
    prefix: z
      .string()
      .regex(/^[^{}\s]*$/, 'no braces or spaces: the prefix must not change Redis Cluster hash tags (src/store/keys.ts)')
      .default('sg:'),
    /** Deadline per command: Redis trouble must not stall mail (fail open, fast). */
    commandTimeoutMs: z.number().int().positive().default(100),
    /** open: a store error becomes a *_UNAVAILABLE symbol; closed: tempfail the transaction. */
    failMode: z.enum(['open', 'closed']).default('open'),
  })
  .strict()
  .prefault({});
