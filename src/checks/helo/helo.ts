/**
 * `helo` (helo): the EHLO/HELO name — syntax (RFC 5321 §4.1.1.1), an address literal that is not
 * the client's address, and whether the name is forward-confirmed (resolves to the client IP).
 * RFC 5321 §4.1.4 forbids refusing mail for a HELO that does not resolve, so these are only
 * evidence with modest weights; DNS failures are the 0-score HELO_DNSFAIL.
 */
import net from 'node:net';
import type { CheckFactory } from '../../core/services.js';
import type { Check, SymbolDef } from '../../core/types.js';
import { classifyHelo } from './helo-syntax.js';
import { sameIp, canonicalIp } from '../../dns/same-ip.js';
import { isNoRecords } from '../../dns/errors.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

const sym = (name: string, score: number, description: string): SymbolDef => ({ name, score, description, category: 'network' });
export const HELO_SYMBOLS = {
  badSyntax: sym('HELO_BAD_SYNTAX', 1.5, 'HELO is neither a domain nor an address literal (RFC 5321 §4.1.1.1)'),
  bareIp: sym('HELO_BARE_IP', 1.0, 'HELO is an IP address without [brackets]'),
  notFqdn: sym('HELO_NOT_FQDN', 1.0, 'HELO is a single label or has a numeric TLD (e.g. "localhost", "OEMCOMPUTER")'),
  ipMismatch: sym('HELO_IP_MISMATCH', 2.0, 'HELO address literal (or bare IP) is not the client address'),
  nores: sym('HELO_NORES', 1.0, 'HELO name has no A/AAAA record'),
  notConfirmed: sym('HELO_NOT_FCONFIRMED', 0.5, 'HELO name does not resolve to the client address'),
  confirmed: sym('HELO_FCONFIRMED', 0, 'HELO name resolves to the client address'),
  dnsfail: sym('HELO_DNSFAIL', 0, 'HELO name lookup failed (DNS)'),
} as const;

export const heloCheck: CheckFactory = ({ config, dns }) => {
  const cfg = config.checks.helo;
  if (!cfg.enabled) return undefined;
  const check: Check = {
    name: 'helo',
    stage: 'helo',
    timeoutMs: cfg.timeoutMs,
    symbols: Object.values(HELO_SYMBOLS),
    async run(ctx) {
      const helo = ctx.session.helo ?? '';
      const clientIp = ctx.session.client.ip;
      const h = classifyHelo(helo);
      if (h.kind === 'invalid') return ctx.emit(HELO_SYMBOLS.badSyntax.name, [helo.slice(0, 64)]);
      if (h.kind === 'bare-ip' || h.kind === 'address-literal') {
        if (h.kind === 'bare-ip') ctx.emit(HELO_SYMBOLS.bareIp.name, [h.ip]);
        if (!sameIp(h.ip, clientIp)) ctx.emit(HELO_SYMBOLS.ipMismatch.name, [h.ip]);
        return;
      }
      if (!h.fqdn) return ctx.emit(HELO_SYMBOLS.notFqdn.name, [h.name]);
      const type = net.isIPv6(canonicalIp(clientIp)) && !net.isIPv4(canonicalIp(clientIp)) ? 'AAAA' : 'A';
      const other = type === 'A' ? 'AAAA' : 'A';
      const opts = { signal: ctx.signal, budgetKey: budgetKeyFor(ctx) };
      const [same, diff] = await Promise.allSettled([dns.resolve(h.name, type, opts), dns.resolve(h.name, other, opts)]);
      if (same.status === 'fulfilled') {
        const ok = (same.value as string[]).some((a) => sameIp(a, clientIp));
        return ctx.emit(ok ? HELO_SYMBOLS.confirmed.name : HELO_SYMBOLS.notConfirmed.name, [h.name]);
      }
      if (!isNoRecords(same.reason)) return ctx.emit(HELO_SYMBOLS.dnsfail.name, [h.name]);
      if (diff.status === 'fulfilled') return ctx.emit(HELO_SYMBOLS.notConfirmed.name, [h.name]);
      if (!isNoRecords(diff.reason)) return ctx.emit(HELO_SYMBOLS.dnsfail.name, [h.name]);
      ctx.emit(HELO_SYMBOLS.nores.name, [h.name]);
    },
  };
  return check;
};
