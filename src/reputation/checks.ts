/**
 * Reputation checks (check names must be unique, so `checks.reputation` configures all four):
 * `reputation_ip` (connect: client IP + /24 or /64), `reputation_helo` and `reputation_domain`
 * (MAIL: HELO name, MAIL FROM domain), `reputation_dkim` (DATA: DKIM-aligned signing domains,
 * after the `auth` check published the DKIM/DMARC facts). Each reads its entries in one command
 * and turns them into BAD/GOOD symbols weighted by confidence (math in ./math.ts).
 *
 * Why the HELO entry is read at MAIL, not at HELO: reputation symbols only add to the score, and
 * nothing decides on the score before RCPT (early reject) or DATA, so reading it at HELO bought
 * nothing but a Redis round trip of its own. At MAIL it shares the round trip the sender-domain
 * read and the sender rate limit make anyway (bench/redis-stages.js: one round trip fewer per
 * message). The symbols then belong to the transaction and are read again for the next MAIL of the
 * connection, with the HELO name the client gave last (RFC 3207 §4.2: a new EHLO after STARTTLS).
 */
import type { CheckFactory, CheckServices } from '../core/services.js';
import type { Check, CheckContext, Stage } from '../core/types.js';
import type { ReputationKey, ReputationOptions } from '../store/stores-api.js';
import { cidrMatcher } from '../store/ipnet.js';
import { storeFailed, systemClock, type Clock } from '../store/unavailable.js';
import { connectKeys, dkimKeys, heloKeys, senderKeys } from './keys.js';
import { judge, type JudgeOptions } from './math.js';
import { REPUTATION_SYMBOLS, REPUTATION_UNAVAILABLE } from './symbols.js';
import type { ReputationCheckConfig } from '../config/sections/checks-store.js';

export function reputationOptions(cfg: ReputationCheckConfig): ReputationOptions & JudgeOptions {
  return {
    halfLifeMs: cfg.halfLifeHours * 3_600_000,
    ttlMs: cfg.ttlDays * 86_400_000,
    confidenceVolume: cfg.confidenceVolume,
    minVolume: cfg.minVolume,
    minBadness: cfg.minBadness,
  };
}

interface StageSpec {
  readonly name: string;
  readonly stage: Exclude<Stage, 'rcpt' | 'helo'>;
  readonly unavailable: (typeof REPUTATION_UNAVAILABLE)[keyof typeof REPUTATION_UNAVAILABLE];
  readonly kinds: readonly ReputationKey['kind'][];
  readonly keys: (ctx: CheckContext) => ReputationKey[];
}

export function buildReputationChecks(services: CheckServices, clock: Clock = systemClock): Check[] | undefined {
  const cfg = services.config.checks.reputation;
  if (!cfg.enabled) return undefined;
  const opts = reputationOptions(cfg);
  const skip = cidrMatcher(cfg.skipNetworks);
  const { stores } = services;
  const specs: StageSpec[] = [
    { name: 'reputation_ip', stage: 'connect', unavailable: REPUTATION_UNAVAILABLE.connect, kinds: ['ip', 'net'], keys: (c) => connectKeys(c.session, skip) },
    { name: 'reputation_helo', stage: 'mail', unavailable: REPUTATION_UNAVAILABLE.helo, kinds: ['helo'], keys: (c) => heloKeys(c.session) },
    { name: 'reputation_domain', stage: 'mail', unavailable: REPUTATION_UNAVAILABLE.mail, kinds: ['domain'], keys: (c) => senderKeys(c.session) },
    { name: 'reputation_dkim', stage: 'data', unavailable: REPUTATION_UNAVAILABLE.data, kinds: ['dkim'], keys: (c) => dkimKeys(c.facts) },
  ];
  const authEnabled = (services.config.checks as { auth?: { enabled?: boolean } }).auth?.enabled === true;
  return specs.map((spec) => {
    const unavailable = spec.unavailable;
    const check: Check = {
      name: spec.name,
      stage: spec.stage,
      timeoutMs: cfg.timeoutMs,
      symbols: [...spec.kinds.flatMap((k) => [REPUTATION_SYMBOLS[k].bad, REPUTATION_SYMBOLS[k].good]), unavailable],
      ...(spec.stage === 'data' && authEnabled ? { dependsOn: ['auth'] } : {}),
      async run(ctx) {
        const keys = spec.keys(ctx);
        if (keys.length === 0) return;
        let stats;
        try {
          stats = await stores.reputation.get(keys, clock(), opts);
        } catch {
          return storeFailed(ctx, stores.failMode, unavailable.name, 'reputation store');
        }
        keys.forEach((k, i) => {
          const s = stats[i]!;
          const j = judge(s, opts);
          if (j.verdict === 'neutral') return;
          const sym = REPUTATION_SYMBOLS[k.kind][j.verdict];
          ctx.emit(sym.name, [k.value, `spam=${s.spam.toFixed(1)} ham=${s.ham.toFixed(1)} n=${s.total.toFixed(1)}`], j.weight);
        });
      },
    };
    return check;
  });
}

export const reputationCheck: CheckFactory = (services) => buildReputationChecks(services);
