/**
 * `checks:` — one key per check name (= log field = metric label), each the check's own typed
 * slice. Features add their check's schema here. `enabled: false` turns a check off.
 */
import { z } from 'zod';
import { storeCheckSections } from './checks-store.js';
import { dnsCheckSections } from './checks-dns.js';
import { rulesCheckSections } from './checks-rules.js';

export const checkToggle = z.object({ enabled: z.boolean().default(true) });

export const checksSection = z
  .object({
    // reputation, greylist, ratelimit, history (Redis-backed; src/config/sections/checks-store.ts)
    ...storeCheckSections,
    // spf, auth, dnsbl, uribl, helo, fcrdns, sender_domain (src/config/sections/checks-dns.ts)
    ...dnsCheckSections,
    // rules (content rules; src/config/sections/checks-rules.ts)
    ...rulesCheckSections,
  })
  // A misspelt check name must not silently leave a check on its defaults.
  .strict()
  .prefault({});
