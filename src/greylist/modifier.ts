/**
 * Greylisting (RFC 6647) as a VerdictModifier: the engine calls it only when the data-stage
 * verdict lands in the greylist band (actions.greylist ≤ score < actions.tag). Triplet = client
 * /24 (/64 for IPv6, so a sender retrying from a sibling address of its pool passes), envelope
 * sender, recipient. For every recipient of the transaction:
 *
 * - all triplets passed (retried after the delay, within the window, or passed in the last 30 days)
 *   or the network + sender domain is auto-allowed → `accept` with the score kept and a
 *   GREYLIST_PASS note;
 * - otherwise the verdict stays `greylist` (→ `451 4.7.1` from the reply table) and every triplet
 *   is now recorded, so the retry passes.
 *
 * Skipped (→ accept, GREYLIST_SKIPPED note) for `skipNetworks`, DMARC-aligned mail (the DMARC fact
 * says pass: the From domain vouches for it) and senders with a REPUTATION_*_GOOD symbol.
 * Store down: fail open (accept, GREYLIST_UNAVAILABLE) or, with `redis.failMode: closed`, tempfail.
 */
import type { VerdictModifier } from '../core/engine-api.js';
import { DMARC } from '../core/facts.js';
import type { Facts, SessionView, SymbolDef, SymbolResult, Verdict } from '../core/types.js';
import type { Config } from '../config/schema.js';
import type { GreylistCheckConfig } from '../config/sections/checks-store.js';
import { cidrMatcher, networkOf } from '../store/ipnet.js';
import type { GreylistOptions, GreylistResult, Stores } from '../store/stores-api.js';
import { systemClock, type Clock } from '../store/unavailable.js';

const note = (name: string, description: string): SymbolDef => ({ name, score: 0, description, category: 'policy' });
export const GREYLIST_SYMBOLS = {
  pass: note('GREYLIST_PASS', 'Greylisting passed: retried after the delay, recently passed, or auto-allowed (options: state)'),
  deferred: note('GREYLIST_DEFERRED', 'Greylisted: first attempt or retried too early (options: seconds until a retry passes)'),
  skipped: note('GREYLIST_SKIPPED', 'Greylisting skipped (options: allow-listed network, DMARC pass, good reputation)'),
  unavailable: note('GREYLIST_UNAVAILABLE', 'Greylist store unavailable (Redis down or slow); not greylisted (fail open)'),
} as const;

export function greylistOptions(cfg: GreylistCheckConfig): GreylistOptions {
  const DAY = 86_400_000;
  return {
    delayMs: cfg.delaySeconds * 1000,
    retryWindowMs: cfg.retryWindowHours * 3_600_000,
    passTtlMs: cfg.passDays * DAY,
    autoAllowAfter: cfg.autoAllowAfter,
    autoAllowTtlMs: cfg.autoAllowDays * DAY,
  };
}

function withNote(v: Verdict, action: Verdict['action'], sym: SymbolDef, options: string[], reason?: string): Verdict {
  const symbols: SymbolResult[] = [...v.symbols, { name: sym.name, score: 0, options }];
  const out: Verdict = { ...v, action, symbols };
  return reason === undefined ? out : { ...out, reason };
}

/** Why greylisting does not apply to this message, or undefined. */
function skipReason(cfg: GreylistCheckConfig, skipNet: (ip: string) => boolean, session: SessionView, verdict: Verdict, facts: Facts): string | undefined {
  if (skipNet(session.client.ip)) return 'network';
  if (cfg.skipDmarcPass && facts.get(DMARC)?.result === 'pass') return 'dmarc';
  if (cfg.skipGoodReputation && verdict.symbols.some((s) => s.name.startsWith('REPUTATION_') && s.name.endsWith('_GOOD'))) return 'reputation';
  return undefined;
}

export function greylistModifier(config: Config, stores: Stores, clock: Clock = systemClock): VerdictModifier | undefined {
  const cfg = config.checks.greylist;
  if (!cfg.enabled) return undefined;
  const opts = greylistOptions(cfg);
  const skipNet = cidrMatcher(cfg.skipNetworks);
  return {
    name: 'greylist',
    appliesTo: ['greylist'],
    symbols: Object.values(GREYLIST_SYMBOLS),
    async adjust(session, verdict, facts) {
      if (verdict.action !== 'greylist') return verdict;
      const skip = skipReason(cfg, skipNet, session, verdict, facts);
      if (skip) return withNote(verdict, 'accept', GREYLIST_SYMBOLS.skipped, [skip]);
      const net = networkOf(session.client.ip) || session.client.ip;
      const sender = session.envelope.mailFrom.toLowerCase();
      const triplets = session.envelope.rcptTo.map((r) => ({ net, sender, rcpt: r.toLowerCase() }));
      if (triplets.length === 0) return verdict;
      let results: GreylistResult[];
      try {
        results = await stores.greylist.check(triplets, clock(), opts);
      } catch {
        if (stores.failMode === 'closed') {
          return withNote(verdict, 'tempfail', GREYLIST_SYMBOLS.unavailable, [], 'greylist store unavailable');
        }
        return withNote(verdict, 'accept', GREYLIST_SYMBOLS.unavailable, []);
      }
      const waiting = results.filter((r) => r.state === 'new' || r.state === 'early');
      if (waiting.length === 0) {
        const states = [...new Set(results.map((r) => r.state))];
        return withNote(verdict, 'accept', GREYLIST_SYMBOLS.pass, states);
      }
      const secs = Math.ceil(Math.max(...waiting.map((r) => r.retryInMs)) / 1000);
      return withNote(verdict, 'greylist', GREYLIST_SYMBOLS.deferred, [String(secs)], `retry in ${secs} seconds`);
    },
  };
}
