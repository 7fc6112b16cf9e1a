/**
 * Engine hooks backed by the stores, for build-engine to register:
 *
 *   const stores = createStores(config.redis, { metrics, log });          // ./index.ts
 *   modifiers: storeModifiers(config, stores)    // greylisting (VerdictModifier, greylist band only)
 *   observers: storeObservers(config, stores)    // reputation learning + history (TransactionObserver)
 *   admin routes: { '/history': historyHandler(stores) }
 *
 * The checks (reputation_*, ratelimit_*) are registered in src/checks/index.ts.
 */
import type { TransactionObserver, VerdictModifier } from '../core/engine-api.js';
import type { Config } from '../config/schema.js';
import type { Stores } from './stores-api.js';
import type { Clock } from './unavailable.js';
import { greylistModifier } from '../greylist/modifier.js';
import { reputationObserver } from '../reputation/observer.js';
import { historyObserver } from '../history/observer.js';

export { greylistModifier, GREYLIST_SYMBOLS } from '../greylist/modifier.js';
export { reputationObserver } from '../reputation/observer.js';
export { historyObserver } from '../history/observer.js';
export { historyHandler } from '../history/handler.js';
export { AUTH_LOGIN } from '../ratelimit/buckets.js';

export function storeModifiers(config: Config, stores: Stores, clock?: Clock): VerdictModifier[] {
  return [greylistModifier(config, stores, clock)].filter((m): m is VerdictModifier => m !== undefined);
}

export function storeObservers(config: Config, stores: Stores, clock?: Clock): TransactionObserver[] {
  return [reputationObserver(config, stores, clock), historyObserver(config, stores, clock)].filter((o): o is TransactionObserver => o !== undefined);
}
