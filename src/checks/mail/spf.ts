/**
 * `spf` (mail): SPF (RFC 7208) for the MAIL FROM identity, or the HELO identity for the null
 * sender (RFC 7208 §2.4). Publishes the SPF fact for DMARC and Authentication-Results.
 */
import type { CheckFactory } from '../../core/services.js';
import type { Check } from '../../core/types.js';
import { SPF } from '../../core/facts.js';
import { SPF_SYMBOLS } from '../auth/symbols.js';
import { evaluateSpf } from '../auth/spf-eval.js';
import { mailauthResolver } from '../auth/mailauth-resolver.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

export const spfCheck: CheckFactory = ({ config, dns }) => {
  const cfg = config.checks.spf;
  if (!cfg.enabled) return undefined;
  const check: Check = {
    name: 'spf',
    stage: 'mail',
    timeoutMs: cfg.timeoutMs,
    symbols: Object.values(SPF_SYMBOLS),
    async run(ctx) {
      const { session } = ctx;
      const out = await evaluateSpf({
        ip: session.client.ip,
        helo: session.helo,
        mailFrom: session.envelope.mailFrom,
        hostname: config.hostname,
        resolver: mailauthResolver(dns, { signal: ctx.signal, budgetKey: budgetKeyFor(ctx), spfSyntax: true }),
        maxResolveCount: cfg.maxResolveCount,
        maxVoidCount: cfg.maxVoidCount,
      });
      ctx.facts.set(SPF, { result: out.result, domain: out.domain });
      const sym = out.result === 'policy' ? SPF_SYMBOLS.permerror : SPF_SYMBOLS[out.result];
      ctx.emit(sym.name, [out.domain || out.sender].filter(Boolean));
    },
  };
  return check;
};
