/**
 * Adapts our DnsResolver to mailauth's injected resolver `(name, rrtype) => Promise<…>` (FIELD-NOTES
 * §4): node-shaped answers, errors with `.code` ENOTFOUND/ENODATA (none / void lookup) and
 * anything else (ETIMEOUT, ESERVFAIL, EBUDGET…) which mailauth treats as a temporary error. Every
 * lookup carries the check's AbortSignal and the message's budget key, and goes through our cache.
 */
import type { DnsResolver, RRType } from '../../dns/resolver-api.js';
import { spfSyntaxError } from './spf-syntax.js';

export type MailauthResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

const SUPPORTED = new Set<string>(['A', 'AAAA', 'TXT', 'MX', 'PTR', 'NS', 'CNAME']);

export interface AdapterOptions {
  readonly signal?: AbortSignal;
  readonly budgetKey?: string;
  /** For SPF evaluation: refuse malformed `v=spf1` records with permerror (see spf-syntax.ts). */
  readonly spfSyntax?: boolean;
}

export function mailauthResolver(dns: DnsResolver, opts: AdapterOptions): MailauthResolver {
  const lookup = { signal: opts.signal, budgetKey: opts.budgetKey };
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    if (!SUPPORTED.has(type)) {
      // e.g. the obsolete SPF RR type (RFC 7208 §3.1 dropped it): treat as "no such records".
      throw Object.assign(new Error(`unsupported ${type}`), { code: 'ENODATA' });
    }
    const records = await dns.resolve(name, type as RRType, lookup);
    if (type === 'TXT' && opts.spfSyntax) {
      const spf = (records as string[][]).map((r) => r.join('')).filter((t) => /^v=spf1(?: |$)/i.test(t));
      const problem = spf.length === 1 ? spfSyntaxError(spf[0]!) : undefined;
      // mailauth turns an error carrying `spfResult` into that result (lib/spf/index.js).
      if (problem) throw Object.assign(new Error(problem), { spfResult: { error: 'permerror', text: `${name}: ${problem}` } });
    }
    // A null MX (RFC 7505 §3: preference 0, exchange ".") names no host; for SPF's mx mechanism it
    // contributes no addresses (RFC 7505 §4.1), so hide it instead of letting "." be resolved.
    if (type === 'MX') return records.filter((r) => !['', '.'].includes((r as { exchange: string }).exchange)) as unknown as string[];
    return records as string[][] | string[];
  };
}
