/**
 * Rate limits as token buckets in the shared store (Lua, atomic; all instances share them), one
 * check per stage: `ratelimit_connect`, `ratelimit_mail`, `ratelimit_rcpt` (configured together
 * under `checks.ratelimit`). Over the limit the check forces a tempfail: at connect `421 4.7.0`
 * and close (what a client expects from a connection-rate limit), later `451 4.7.0` for the command
 * (RFC 3463 4.7.0: other security/policy status). Senders retry; nothing is lost.
 */
import type { CheckFactory, CheckServices } from '../core/services.js';
import { REPLIES } from '../core/replies.js';
import type { Check, CheckContext, ForcedReply, Stage, SymbolDef } from '../core/types.js';
import type { RatelimitCheckConfig } from '../config/sections/checks-store.js';
import type { BucketResult } from '../store/stores-api.js';
import { storeFailed, systemClock, type Clock } from '../store/unavailable.js';
import { cidrMatcher } from '../store/ipnet.js';
import { AUTH_LOGIN, authParam, connectBuckets, mailBuckets, rcptBuckets, type BucketKind, type NamedBucket } from './buckets.js';

const note = (name: string, description: string): SymbolDef => ({ name, score: 0, description, category: 'policy' });

export const RATELIMIT_SYMBOLS: Record<BucketKind, SymbolDef> = {
  ip: note('RATELIMIT_IP', 'Connection rate limit per client IP exceeded (421, connection closed)'),
  net: note('RATELIMIT_NET', 'Connection rate limit per client /24 (/64) exceeded (421, connection closed)'),
  sender: note('RATELIMIT_SENDER', 'Message rate limit per envelope sender exceeded (451 4.7.0)'),
  auth: note('RATELIMIT_AUTH', 'Message rate limit per authenticated login exceeded (451 4.7.0)'),
  rcpt: note('RATELIMIT_RCPT', 'Message rate limit per recipient exceeded (451 4.7.0)'),
  rcpt_domain: note('RATELIMIT_RCPT_DOMAIN', 'Message rate limit per recipient domain exceeded (451 4.7.0)'),
};

const unavailable = (name: string, what: string) => note(name, `Rate-limit store unavailable at ${what} (Redis down or slow); not limited`);
export const RATELIMIT_UNAVAILABLE = {
  connect: unavailable('RATELIMIT_UNAVAILABLE', 'connect'),
  mail: unavailable('RATELIMIT_MAIL_UNAVAILABLE', 'MAIL FROM'),
  rcpt: unavailable('RATELIMIT_RCPT_UNAVAILABLE', 'RCPT TO'),
};

const WHAT: Record<BucketKind, string> = {
  ip: 'your address',
  net: 'your network',
  sender: 'this sender',
  auth: 'this login',
  rcpt: 'this recipient',
  rcpt_domain: 'this recipient domain',
};

function replyFor(kind: BucketKind, retryAfterMs: number): ForcedReply {
  const secs = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (kind === 'ip' || kind === 'net') {
    return { ...REPLIES.tooManyConnections, text: `Too many connections from ${WHAT[kind]}, please try again in ${secs} seconds` };
  }
  return { ...REPLIES.rateLimited, text: `Rate limit exceeded for ${WHAT[kind]}, please try again in ${secs} seconds` };
}

type LimitedStage = 'connect' | 'mail' | 'rcpt';

export function buildRatelimitChecks(services: CheckServices, clock: Clock = systemClock): Check[] | undefined {
  const cfg: RatelimitCheckConfig = services.config.checks.ratelimit;
  if (!cfg.enabled) return undefined;
  const { stores } = services;
  const skip = cidrMatcher(cfg.skipNetworks);
  const trustAuth = cidrMatcher(services.config.upstream.trustAuthFrom);
  /** The login of the MAIL command: a published fact, else AUTH= from a trusted client (RFC 4954 §5). */
  const loginOf = (c: CheckContext): string | undefined => c.facts.get(AUTH_LOGIN) ?? (trustAuth(c.session.client.ip) ? authParam(c.session) : undefined);
  const specs: { name: string; stage: LimitedStage; kinds: BucketKind[]; buckets: (ctx: CheckContext) => NamedBucket[] }[] = [
    { name: 'ratelimit_connect', stage: 'connect', kinds: ['ip', 'net'], buckets: (c) => connectBuckets(cfg, c.session) },
    { name: 'ratelimit_mail', stage: 'mail', kinds: ['sender', 'auth'], buckets: (c) => mailBuckets(cfg, c.session, loginOf(c)) },
    {
      name: 'ratelimit_rcpt',
      stage: 'rcpt',
      kinds: ['rcpt', 'rcpt_domain'],
      buckets: (c) => (c.session.currentRcpt ? rcptBuckets(cfg, c.session.currentRcpt) : []),
    },
  ];
  return specs.map((spec) => {
    const unavailableSym = RATELIMIT_UNAVAILABLE[spec.stage];
    const check: Check = {
      name: spec.name,
      stage: spec.stage as Stage,
      timeoutMs: cfg.timeoutMs,
      symbols: [...spec.kinds.map((k) => RATELIMIT_SYMBOLS[k]), unavailableSym],
      async run(ctx) {
        let buckets = spec.buckets(ctx);
        // A skipped client (loopback by default) is not limited per address, sender or recipient;
        // but a submission server on loopback passing its users' logins is still limited per login.
        if (skip(ctx.session.client.ip)) buckets = buckets.filter((b) => b.kind === 'auth');
        if (buckets.length === 0) return;
        let results: BucketResult[];
        try {
          results = await stores.ratelimit.take(buckets, clock());
        } catch {
          return storeFailed(ctx, stores.failMode, unavailableSym.name, 'rate-limit store');
        }
        const over = buckets.map((b, i) => ({ b, r: results[i]! })).filter((x) => !x.r.allowed);
        if (over.length === 0) return;
        // All or nothing: give back what the other buckets took for a refused command (rare path,
        // so the extra round trip does not count against the normal one per stage).
        const took = buckets.filter((_, i) => results[i]!.allowed);
        if (took.length) void stores.ratelimit.take(took, clock(), -1).catch(() => undefined);
        for (const { b } of over) ctx.emit(RATELIMIT_SYMBOLS[b.kind].name, [b.key]);
        const first = over[0]!;
        ctx.force('tempfail', `rate limit ${first.b.kind} exceeded`, replyFor(first.b.kind, first.r.retryAfterMs));
      },
    };
    return check;
  });
}

export const ratelimitCheck: CheckFactory = (services) => buildRatelimitChecks(services);
