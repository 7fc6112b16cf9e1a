/**
 * `policy:` — allow/block lists and per-recipient-domain policy (ISPs host many domains).
 */
import { z } from 'zod';
import { cidr } from '../types.js';

const lists = {
  /** Client networks, sender addresses/domains (`user@dom`, `dom`, `*.dom`) forced to accept. */
  allowIps: z.array(cidr).default([]),
  allowSenders: z.array(z.string().min(1)).default([]),
  /** Forced to reject. */
  blockIps: z.array(cidr).default([]),
  blockSenders: z.array(z.string().min(1)).default([]),
};

const domainPolicy = z
  .object({
    actions: z
      .object({ greylist: z.number().optional(), tag: z.number().optional(), reject: z.number().optional() })
      .strict()
      .optional(),
    ...lists,
    /** Check names not run for this domain's mail. */
    disabledChecks: z.array(z.string()).default([]),
  })
  .strict();

export const policySection = z
  .object({
    ...lists,
    /** Recipient domain (lower-case) → policy. */
    domains: z.record(z.string().min(1), domainPolicy).default({}),
  })
  .strict()
  .prefault({});

export type DomainPolicyConfig = z.infer<typeof domainPolicy>;
