/**
 * What a check does when its store fails (StoreUnavailableError after ≈100 ms): emit its
 * `*_UNAVAILABLE` symbol (score 0) and carry on — or, with `redis.failMode: closed`, tempfail the
 * command so the sender retries (451 4.7.1 from the reply table). The metric was already counted
 * by the store guard.
 */
import type { CheckContext } from '../core/types.js';

export function storeFailed(ctx: CheckContext, failMode: 'open' | 'closed', symbol: string, what: string): void {
  ctx.emit(symbol);
  if (failMode === 'closed') ctx.force('tempfail', `${what} unavailable`);
}

/** Default wall clock; checks take an injectable one for tests. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
