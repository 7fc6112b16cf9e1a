/**
 * Learns reputation from each finished transaction (a TransactionObserver): every entry the
 * transaction touched (IP, network, HELO, sender domain, aligned DKIM domains) gets one decayed
 * sample, all written in one round trip, fire-and-forget.
 *
 * What counts as spam or ham: the verdict score *without* the reputation symbols themselves
 * (otherwise a bad listing would feed itself forever): ≥ actions.tag → spam, < actions.greylist →
 * ham, in between → volume only. Not learned: forced verdicts (allow/block lists, rate limits:
 * policy, not evidence) and greylist/tempfail (not final; the retry is learned).
 */
import type { TransactionObserver, TransactionOutcome } from '../core/engine-api.js';
import type { Facts, SessionView, Verdict } from '../core/types.js';
import type { Config } from '../config/schema.js';
import type { ReputationSample, Stores } from '../store/stores-api.js';
import { cidrMatcher } from '../store/ipnet.js';
import { systemClock, type Clock } from '../store/unavailable.js';
import { reputationOptions } from './checks.js';
import { transactionKeys } from './keys.js';
import { ALL_REPUTATION_SYMBOL_NAMES } from './symbols.js';

export function sampleOf(verdict: Verdict, thresholds: { greylist: number; tag: number }): ReputationSample | undefined {
  if (verdict.forced) return undefined;
  if (verdict.action !== 'accept' && verdict.action !== 'tag' && verdict.action !== 'reject') return undefined;
  const own = verdict.symbols.filter((s) => ALL_REPUTATION_SYMBOL_NAMES.has(s.name) || s.name.startsWith('GREYLIST_'));
  const score = Math.round((verdict.score - own.reduce((t, s) => t + s.score, 0)) * 100) / 100;
  return { spam: score >= thresholds.tag ? 1 : 0, ham: score < thresholds.greylist ? 1 : 0, score };
}

export function reputationObserver(config: Config, stores: Stores, clock: Clock = systemClock): TransactionObserver | undefined {
  const cfg = config.checks.reputation;
  if (!cfg.enabled) return undefined;
  const opts = reputationOptions(cfg);
  const skip = cidrMatcher(cfg.skipNetworks);
  return {
    name: 'reputation',
    async onTransaction(session: SessionView, verdict: Verdict, _outcome: TransactionOutcome, facts: Facts) {
      const sample = sampleOf(verdict, config.actions);
      if (!sample) return;
      const keys = transactionKeys(session, facts, skip);
      if (keys.length === 0) return;
      // Errors are counted by the store guard; a lost sample is not worth a log line per message.
      await stores.reputation.record(keys, sample, clock(), opts).catch(() => undefined);
    },
  };
}
