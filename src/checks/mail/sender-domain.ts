/**
 * `sender_domain` (mail): the MAIL FROM domain must be able to receive replies and bounces:
 * an MX, or failing that an A/AAAA (the implicit MX, RFC 5321 §5.1). A domain that does not exist
 * is SENDER_DOMAIN_NXDOMAIN (Postfix's reject_unknown_sender_domain); a null MX (RFC 7505 §4.2:
 * the domain sends no mail) is SENDER_DOMAIN_NULL_MX. DNS failures are the 0-score
 * SENDER_DOMAIN_DNSFAIL. The null sender is not checked.
 */
import type { CheckFactory } from '../../core/services.js';
import type { Check, SymbolDef } from '../../core/types.js';
import { isNoRecords } from '../../dns/errors.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

const sym = (name: string, score: number, description: string): SymbolDef => ({ name, score, description, category: 'policy' });
export const SENDER_DOMAIN_SYMBOLS = {
  nxdomain: sym('SENDER_DOMAIN_NXDOMAIN', 2.0, 'MAIL FROM domain does not exist'),
  noMail: sym('SENDER_DOMAIN_NO_MAIL', 1.5, 'MAIL FROM domain has neither MX nor A/AAAA'),
  nullMx: sym('SENDER_DOMAIN_NULL_MX', 2.0, 'MAIL FROM domain publishes a null MX: it sends and receives no mail (RFC 7505)'),
  dnsfail: sym('SENDER_DOMAIN_DNSFAIL', 0, 'MAIL FROM domain lookup failed (DNS)'),
} as const;

type Lookup = { ok: true; records: unknown[] } | { ok: false; none: boolean; nx: boolean };

export const senderDomainCheck: CheckFactory = ({ config, dns }) => {
  const cfg = config.checks.sender_domain;
  if (!cfg.enabled) return undefined;
  const check: Check = {
    name: 'sender_domain',
    stage: 'mail',
    timeoutMs: cfg.timeoutMs,
    symbols: Object.values(SENDER_DOMAIN_SYMBOLS),
    async run(ctx) {
      const from = ctx.session.envelope.mailFrom;
      const at = from.lastIndexOf('@');
      const domain = at >= 0 ? from.slice(at + 1).toLowerCase().replace(/\.$/, '') : '';
      if (!domain || domain.startsWith('[')) return; // null sender, or an address literal
      const opts = { signal: ctx.signal, budgetKey: budgetKeyFor(ctx) };
      const ask = async (type: 'MX' | 'A' | 'AAAA'): Promise<Lookup> => {
        try {
          return { ok: true, records: await dns.resolve(domain, type, opts) };
        } catch (e) {
          return { ok: false, none: isNoRecords(e), nx: (e as { code?: string }).code === 'ENOTFOUND' };
        }
      };
      const mx = await ask('MX');
      if (mx.ok) {
        const real = (mx.records as { exchange: string }[]).filter((r) => r.exchange !== '' && r.exchange !== '.');
        if (real.length === 0) ctx.emit(SENDER_DOMAIN_SYMBOLS.nullMx.name, [domain]);
        return;
      }
      if (!mx.none) return ctx.emit(SENDER_DOMAIN_SYMBOLS.dnsfail.name, [domain]);
      if (mx.nx) return ctx.emit(SENDER_DOMAIN_SYMBOLS.nxdomain.name, [domain]);
      const [a, aaaa] = await Promise.all([ask('A'), ask('AAAA')]);
      if (a.ok || aaaa.ok) return;
      if (!(a.none && aaaa.none)) return ctx.emit(SENDER_DOMAIN_SYMBOLS.dnsfail.name, [domain]);
      ctx.emit(SENDER_DOMAIN_SYMBOLS.noMail.name, [domain]);
    },
  };
  return check;
};
