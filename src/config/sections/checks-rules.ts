/**
 * `checks.rules`: the content rules check (src/checks/data/rules.ts). Which rule files to load is
 * the top-level `rules:` section (paths, spamassassin, watch, bodyScanBytes).
 */
import { z } from 'zod';

export const rulesCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Deadline for one message; rule evaluation is CPU-bound and capped by rules.bodyScanBytes. */
    timeoutMs: z.number().int().positive().default(5_000),
  })
  .strict()
  .prefault({});

export const rulesCheckSections = { rules: rulesCheckSchema };
