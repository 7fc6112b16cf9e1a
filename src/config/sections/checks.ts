/**
 * `checks:` — one key per check name (= log field = metric label), each the check's own typed
 * slice. Features add their check's schema here. `enabled: false` turns a check off.
 */
import { z } from 'zod';

export const checkToggle = z.object({ enabled: z.boolean().default(true) });

export const checksSection = z
  .object({})
  .catchall(z.record(z.string(), z.unknown()))
  .prefault({});
