/**
 * The per-message DNS budget key for a check run. Connect/HELO lookups are charged to the session
 * (they happen once per connection); from MAIL on, each transaction gets its own key, so a long
 * SMTP session delivering many messages does not run out of budget after the first few.
 *
 * The key lives in a transaction-layer fact: the engine forgets those on RSET and at the end of
 * each transaction (core/facts-map.ts), which starts a fresh budget. Get-or-create is synchronous,
 * so concurrent checks of one stage share the key. Spent keys age out of the budget table.
 */
import { factKey, type CheckContext } from '../core/types.js';

const BUDGET_KEY = factKey<string>('dns_budget_key');
let seq = 0;

export function budgetKeyFor(ctx: Pick<CheckContext, 'stage' | 'session' | 'facts'>): string {
  if (ctx.stage === 'connect' || ctx.stage === 'helo') return ctx.session.id;
  let key = ctx.facts.get(BUDGET_KEY);
  if (!key) {
    key = `${ctx.session.id}#${++seq}`;
    ctx.facts.set(BUDGET_KEY, key);
  }
  return key;
}
