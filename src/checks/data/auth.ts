/**
 * `auth` (data): DKIM for every signature, ARC chain validation, DMARC with policy and strict or
 * relaxed alignment (using the SPF fact from the `spf` check), and the RFC 8601
 * Authentication-Results value (authserv-id = config.hostname) published as the AUTH_RESULTS fact
 * for the engine to prepend.
 */
import { arc as mailauthArc, withKeyCache } from '../auth/mailauth.js';
import type { CheckFactory } from '../../core/services.js';
import type { Check, CheckContext } from '../../core/types.js';
import { ARC, AUTH_RESULTS, DKIM, DMARC, SPF, type AuthResult } from '../../core/facts.js';
import { ARC_SYMBOLS, DKIM_SYMBOLS, DMARC_SYMBOLS } from '../auth/symbols.js';
import { mailauthResolver, type MailauthResolver } from '../auth/mailauth-resolver.js';
import { evaluateDkim, type DkimOutcome } from '../auth/dkim-eval.js';
import { evaluateDmarc, type DmarcOutcome } from '../auth/dmarc-eval.js';
import { buildAuthResults } from '../auth/auth-results.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

function emitDkim(ctx: CheckContext, sigs: readonly DkimOutcome[]): void {
  if (sigs.length === 0) return ctx.emit(DKIM_SYMBOLS.na.name);
  const by = new Map<string, string[]>();
  for (const s of sigs) {
    const sym = s.partialBody
      ? DKIM_SYMBOLS.partial
      : s.result === 'pass'
        ? DKIM_SYMBOLS.allow
        : s.result === 'fail'
          ? DKIM_SYMBOLS.reject
          : s.result === 'temperror'
            ? DKIM_SYMBOLS.tempfail
            : DKIM_SYMBOLS.permfail;
    by.set(sym.name, [...(by.get(sym.name) ?? []), `${s.domain}:${s.selector}`]);
  }
  for (const [name, opts] of by) ctx.emit(name, opts);
}

function dmarcSymbol(d: DmarcOutcome): string {
  if (d.result === 'pass') return DMARC_SYMBOLS.allow.name;
  if (d.result === 'none') return DMARC_SYMBOLS.na.name;
  if (d.result === 'temperror') return DMARC_SYMBOLS.dnsfail.name;
  if (d.result === 'permerror') return DMARC_SYMBOLS.bad.name;
  if (d.policy === 'reject') return DMARC_SYMBOLS.reject.name;
  if (d.policy === 'quarantine') return DMARC_SYMBOLS.quarantine.name;
  return DMARC_SYMBOLS.softfail.name;
}

async function evaluateArc(data: unknown, resolver: MailauthResolver, minBitLength: number): Promise<AuthResult> {
  // No ARC Set and no error reading one: the chain status is "none" (RFC 8617 §5.2 step 1), which
  // is what mailauth's arc() would answer (lib/arc/index.js) — most mail has no ARC, skip the call.
  const d = data as { chain?: unknown[] | false; error?: unknown } | undefined;
  if (!d?.error && !(Array.isArray(d?.chain) && d.chain.length > 0)) return 'none';
  const r = (await mailauthArc(data as Parameters<typeof mailauthArc>[0], { resolver, minBitLength } as Parameters<typeof mailauthArc>[1])) as {
    status?: { result?: string; comment?: string };
  };
  const res = r?.status?.result ?? 'none';
  if (res === 'pass' || res === 'fail' || res === 'none') return res;
  return res === 'temperror' || res === 'temperr' ? 'temperror' : 'fail';
}

export const authCheck: CheckFactory = ({ config, dns }) => {
  const cfg = config.checks.auth;
  if (!cfg.enabled) return undefined;
  const symbols = [...Object.values(DKIM_SYMBOLS), ...(cfg.arc ? Object.values(ARC_SYMBOLS) : []), ...(cfg.dmarc ? Object.values(DMARC_SYMBOLS) : [])];
  const check: Check = {
    name: 'auth',
    stage: 'data',
    timeoutMs: cfg.timeoutMs,
    symbols,
    // DMARC reads the SPF fact published at MAIL FROM.
    dependsOn: config.checks.spf.enabled ? ['spf'] : [],
    async run(ctx) {
      const { session } = ctx;
      const message = session.message;
      if (!message) return;
      // DKIM and ARC keys fetched through this resolver reuse their parse (mailauth-key-cache.ts).
      const resolver = withKeyCache(mailauthResolver(dns, { signal: ctx.signal, budgetKey: budgetKeyFor(ctx) }));
      const dk = await evaluateDkim(message, { resolver, minBitLength: cfg.minBitLength });
      ctx.facts.set(
        DKIM,
        dk.signatures.map(({ domain, selector, result, b, partialBody }) => ({ domain, selector, result, b, partialBody })),
      );
      emitDkim(ctx, dk.signatures);

      let arcResult: AuthResult | undefined;
      if (cfg.arc) {
        arcResult = await evaluateArc(dk.arcData, resolver, cfg.minBitLength);
        ctx.facts.set(ARC, { result: arcResult });
        ctx.emit(
          arcResult === 'pass' ? ARC_SYMBOLS.allow.name : arcResult === 'none' ? ARC_SYMBOLS.na.name : arcResult === 'temperror' ? ARC_SYMBOLS.dnsfail.name : ARC_SYMBOLS.reject.name,
        );
      }

      const spf = ctx.facts.get(SPF);
      let dmarc: DmarcOutcome | undefined;
      if (cfg.dmarc) {
        dmarc = await evaluateDmarc({
          headerFrom: dk.headerFrom,
          spfPassDomain: spf?.result === 'pass' ? spf.domain : undefined,
          dkim: dk.signatures.map((s) => ({ domain: s.domain, pass: s.result === 'pass', partialBody: s.partialBody })),
          resolver,
        });
        ctx.facts.set(DMARC, { result: dmarc.result, policy: dmarc.policy, domain: dmarc.domain });
        ctx.emit(dmarcSymbol(dmarc), [dmarc.domain, dmarc.policy].filter(Boolean));
      }

      ctx.facts.set(
        AUTH_RESULTS,
        buildAuthResults({
          authservId: config.hostname,
          spf: spf && { result: spf.result, domain: spf.domain, mailFrom: session.envelope.mailFrom, helo: session.helo },
          dkim: dk.signatures,
          arc: arcResult === undefined ? undefined : { result: arcResult },
          dmarc,
        }),
      );
    },
  };
  return check;
};
